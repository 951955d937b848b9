"""Make `cv_ligatures.pdf`: a one-page CV printed with the fi/fl ligature characters.

Word processors and browsers print "fi" and "fl" as one ligature glyph, and PDF text
extraction then returns U+FB01 and U+FB02 ("MLﬂow", "classiﬁcation"), as the connectors field
report found for a CV printed by Chromium. This script writes such a PDF with a real PDF
generator, fpdf2 (2.8, LGPL-3.0), and the DejaVu Sans font of Debian's fonts-dejavu-core; it
is not a project dependency: the PDF is committed and the script records how it was made.

    python -m venv /tmp/pdfgen && /tmp/pdfgen/bin/pip install fpdf2
    /tmp/pdfgen/bin/python tests/fakes/files/make_cv_pdf.py
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF  # type: ignore[import-not-found]

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = [
    ("Jane Probe", 16),
    ("Machine learning engineer, Lisbon", 11),
    ("", 11),
    ("Experience", 13),
    ("2021-2026  Senior ML engineer, Borealis Retail", 11),
    (
        "Built classi\ufb01cation models for churn and fraud; \ufb01ne-tuned LLMs for support tickets.",
        10,
    ),
    (
        "Ran work\ufb02ows in Air\ufb02ow; tracked experiments in ML\ufb02ow; loaded features into Snow\ufb02ake.",
        10,
    ),
    ("Served models behind a REST API; monitored drift with Evidently.", 10),
    ("Built demand forecasting with time-", 10),
    ("series models for 300 stores.", 10),
    ("", 11),
    ("Skills", 13),
    ("Python (7 years), PyTorch, scikit-learn, Docker, Kubernetes, Terraform", 10),
]


def main() -> None:
    pdf = FPDF()
    pdf.set_creator("fpdf2")
    pdf.add_page()
    pdf.add_font("DejaVu", fname=FONT)
    for text, size in LINES:
        pdf.set_font("DejaVu", size=size)
        pdf.cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(Path(__file__).with_name("cv_ligatures.pdf")))


if __name__ == "__main__":
    main()
