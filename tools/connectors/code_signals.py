"""What code shows: the tables `repo_signals` matches a repository against.

Every name on the right is a taxonomy skill id or alias (knowledge/data/skills.yaml; a test
checks that each resolves). Three kinds of signal come from these tables:

- a library (`LIBRARIES`, by top-level import or distribution name, and `MODULES`, by dotted
  module such as `torch.distributed`): declared in a dependency file or imported in code;
- a library's wider skill (`IMPLIED`): using PyTorch is doing deep learning, using Ray Train
  is distributed training; weighted below the library itself (`IMPLIED_WEIGHT`);
- what code does (`CODE_PATTERNS`): calls and entry points that show a practice whatever the
  library, e.g. registering a model in MLflow's registry, a web handler that loads a model
  and predicts, a `torchrun` launch, `mlflow models serve` in a Dockerfile.

Files that configure a tool (`CONFIG_FILES`: dbt, Feast, Great Expectations, BentoML,
Grafana...) are signals by their name alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Top-level import name (or normalised distribution name) -> skill names.
LIBRARIES: dict[str, tuple[str, ...]] = {
    # Deep learning frameworks and their ecosystems
    "torch": ("pytorch",), "pytorch": ("pytorch",), "lightning": ("pytorch",),
    "pytorch_lightning": ("pytorch",), "torchvision": ("pytorch", "computer_vision"),
    "torchaudio": ("pytorch",), "torchtext": ("pytorch", "nlp"), "timm": ("computer_vision",),
    "tensorflow": ("tensorflow",), "keras": ("keras",), "tf_keras": ("keras",),
    "flax": ("jax", "deep_learning"), "optax": ("jax", "deep_learning"),
    "mxnet": ("deep_learning",), "paddle": ("deep_learning",), "jax": ("jax",),
    "haiku": ("jax", "deep_learning"), "equinox": ("jax", "deep_learning"),
    # Hyperparameter search, causal inference, federated learning
    "optuna": ("hyperparameter_tuning",), "hyperopt": ("hyperparameter_tuning",),
    "skopt": ("hyperparameter_tuning",), "keras_tuner": ("hyperparameter_tuning",),
    "nevergrad": ("hyperparameter_tuning",), "dowhy": ("causal_inference",),
    "econml": ("causal_inference",), "causalml": ("causal_inference",),
    "causalnex": ("causal_inference",), "doubleml": ("causal_inference",),
    "flwr": ("federated_learning",), "tensorflow_federated": ("federated_learning",),
    "syft": ("federated_learning",), "fedml": ("federated_learning",),
    "nvflare": ("federated_learning",),
    # Classical ML, boosting, data
    "sklearn": ("sklearn", "classical_ml"), "xgboost": ("xgboost",), "lightgbm": ("lightgbm",),
    "catboost": ("catboost",), "pandas": ("pandas",), "polars": ("polars",), "numpy": ("numpy",),
    "scipy": ("scipy",), "statsmodels": ("statistics",), "pymc": ("statistics",),
    "matplotlib": ("matplotlib",), "seaborn": ("seaborn",), "plotly": ("plotly",),
    "altair": ("data_visualization",), "bokeh": ("data_visualization",),
    # Hugging Face, NLP, LLMs, RAG, agents
    "transformers": ("transformers",), "peft": ("peft",), "datasets": ("hugging_face",),
    "huggingface_hub": ("hugging_face",), "sentence_transformers": ("hugging_face", "nlp"),
    "spacy": ("nlp",), "nltk": ("nlp",), "gensim": ("nlp",),
    "langchain": ("llm_engineering",), "langchain_core": ("llm_engineering",),
    "langchain_openai": ("llm_engineering",), "openai": ("llm_engineering",),
    "anthropic": ("llm_engineering",), "litellm": ("llm_engineering",),
    "llama_index": ("llm_engineering", "rag"), "langgraph": ("langgraph",),
    "crewai": ("agent_engineering",), "autogen": ("agent_engineering",),
    "langsmith": ("llmops",), "langfuse": ("llmops",), "vllm": ("vllm",),
    "ragas": ("model_evaluation", "rag"), "deepeval": ("model_evaluation",),
    "guardrails": ("llm_safety_evaluation",), "nemoguardrails": ("llm_safety_evaluation",),
    "garak": ("llm_safety_evaluation",),
    # Vector stores
    "faiss": ("faiss",), "chromadb": ("vector_databases",), "pinecone": ("pinecone",),
    "qdrant_client": ("vector_databases",), "weaviate": ("vector_databases",),
    "pymilvus": ("vector_databases",), "pgvector": ("pgvector",),
    # Vision, time series, recommenders, reinforcement learning
    "cv2": ("opencv",), "skimage": ("computer_vision",), "albumentations": ("computer_vision",),
    "ultralytics": ("object detection",), "detectron2": ("object detection",),
    "kornia": ("computer_vision",), "prophet": ("time_series",), "sktime": ("time_series",),
    "darts": ("time_series",), "pmdarima": ("time_series",), "tsfresh": ("time_series",),
    "neuralprophet": ("time_series",), "implicit": ("recommender_systems",),
    "lightfm": ("recommender_systems",), "surprise": ("recommender_systems",),
    "recbole": ("recommender_systems",), "gym": ("reinforcement_learning",),
    "gymnasium": ("reinforcement_learning",), "stable_baselines3": ("reinforcement_learning",),
    # Features, evaluation, explanation, fairness, privacy, robustness
    "featuretools": ("feature_engineering",), "category_encoders": ("feature_engineering",),
    "feature_engine": ("feature_engineering",), "torchmetrics": ("model_evaluation",),
    "shap": ("shap",), "lime": ("lime",), "captum": ("explainability",),
    "interpret_ml": ("explainability",), "alibi": ("explainability",),
    "fairlearn": ("fairlearn", "bias_testing"), "aif360": ("aif360", "bias_testing"),
    "opacus": ("opacus",), "presidio_analyzer": ("privacy_gdpr",),
    "presidio_anonymizer": ("privacy_gdpr",), "adversarial_robustness_toolbox": ("adversarial_robustness",),
    "foolbox": ("adversarial_robustness",), "textattack": ("adversarial_robustness",),
    "codecarbon": ("sustainable_ai",),
    # Experiment tracking, orchestration, pipelines, versioning
    "mlflow": ("mlflow",), "wandb": ("wandb",), "neptune": ("neptune",),
    "comet_ml": ("experiment_tracking",), "clearml": ("experiment_tracking",),
    "dvc": ("dvc",), "lakefs": ("lakefs",),
    "airflow": ("airflow",), "prefect": ("prefect",), "dagster": ("dagster",),
    "kfp": ("kubeflow pipelines",), "metaflow": ("workflow_orchestration",),
    "zenml": ("workflow_orchestration",), "flytekit": ("workflow_orchestration",),
    "luigi": ("workflow_orchestration",), "apache_beam": ("data_pipelines",),
    "dlt": ("data_pipelines",), "dbt": ("dbt",), "pyspark": ("pyspark",),
    "databricks": ("databricks",), "kafka": ("kafka",), "confluent_kafka": ("kafka",),
    "aiokafka": ("kafka",), "faust": ("streaming_data",), "pyflink": ("flink",),
    "snowflake": ("snowflake",), "redshift_connector": ("redshift",),
    "label_studio_sdk": ("label studio",), "snorkel": ("data_labeling",),
    "cleanlab": ("data_labeling",),
    # Feature stores, data validation, monitoring
    "feast": ("feast",), "tecton": ("tecton",), "hopsworks": ("feature_stores",),
    "featureform": ("feature_stores",), "great_expectations": ("great expectations",),
    "pandera": ("pandera",), "soda": ("data_validation",), "deepchecks": ("data_validation", "ml_testing"),
    "tensorflow_data_validation": ("data_validation",), "evidently": ("evidently",),
    "whylogs": ("model_monitoring",), "prometheus_client": ("model_monitoring",),
    "nannyml": ("model_monitoring",), "alibi_detect": ("model_monitoring",),
    # Serving, APIs, optimisation, distributed training
    "fastapi": ("fastapi",), "flask": ("flask",), "uvicorn": ("api_development",),
    "gunicorn": ("api_development",), "grpc": ("grpc",), "bentoml": ("bentoml",),
    "tritonclient": ("model_serving",), "kserve": ("model_serving",),
    "seldon_core": ("model_serving",), "mlserver": ("model_serving",),
    "torchserve": ("torchserve",),
    "onnx": ("onnx",), "onnxruntime": ("onnx",), "tensorrt": ("tensorrt",),
    "openvino": ("model_optimization",), "optimum": ("model_optimization",),
    "bitsandbytes": ("quantization",), "deepspeed": ("deepspeed",),
    "accelerate": ("distributed_training",), "horovod": ("distributed_training",),
    "ray": ("distributed_training",), "cupy": ("gpu_computing",), "pycuda": ("gpu_computing",),
    "triton": ("triton kernels",),
    # Testing, cloud, databases, infrastructure
    "pytest": ("pytest",), "hypothesis": ("ml_testing",), "boto3": ("aws",),
    "sagemaker": ("sagemaker",), "azureml": ("azure ml",), "sqlalchemy": ("sql",),
    "psycopg": ("sql",), "psycopg2": ("sql",), "duckdb": ("sql",), "pymysql": ("sql",),
    "kubernetes": ("kubernetes",), "pulumi": ("pulumi",),
}  # fmt: skip

# Dotted modules that say more than their package: checked longest first against each import.
MODULES: dict[str, tuple[str, ...]] = {
    "torch.distributed": ("distributed_training",), "torch.nn.parallel": ("distributed_training",),
    "torch.cuda": ("gpu_computing",), "torch.quantization": ("quantization",),
    "torch.ao.quantization": ("quantization",), "torch.onnx": ("onnx",),
    "ray.train": ("distributed_training",), "ray.serve": ("model_serving",),
    "ray.data": ("data_pipelines",), "ray.rllib": ("reinforcement_learning",),
    "ray.tune": ("hyperparameter_tuning",),
    "tensorflow.distribute": ("distributed_training",), "numba.cuda": ("gpu_computing",),
    "sklearn.metrics": ("model_evaluation",), "sklearn.model_selection": ("model_evaluation",),
    "statsmodels.tsa": ("time_series",), "scipy.stats": ("statistics",),
    "google.cloud.bigquery": ("bigquery",), "google.cloud.aiplatform": ("vertex ai",),
    "google.cloud.storage": ("gcp",), "azure.ai.ml": ("azure ml",), "azure.storage": ("azure",),
    "mlflow.tracking": ("experiment_tracking",), "mlflow.pyfunc": ("model_serving",),
    "snowflake.connector": ("snowflake",), "transformers.trainer": ("hugging_face",),
}  # fmt: skip

# The wider skill using a library shows, at IMPLIED_WEIGHT: frameworks are deep learning.
IMPLIED: dict[str, tuple[str, ...]] = {
    "torch": ("deep_learning",), "pytorch_lightning": ("deep_learning",),
    "lightning": ("deep_learning",), "tensorflow": ("deep_learning",), "keras": ("deep_learning",),
    "tf_keras": ("deep_learning",), "transformers": ("deep_learning",),
    "timm": ("deep_learning",), "xgboost": ("classical_ml",), "lightgbm": ("classical_ml",),
    "catboost": ("classical_ml",), "jax": ("deep_learning",),
}  # fmt: skip
IMPLIED_WEIGHT = 0.35

# Distribution name (normalised) -> import name, where they differ.
PACKAGE_IMPORTS = {
    "scikit_learn": "sklearn", "opencv_python": "cv2", "opencv_python_headless": "cv2",
    "opencv_contrib_python": "cv2", "apache_airflow": "airflow", "tensorflow_cpu": "tensorflow",
    "tensorflow_gpu": "tensorflow", "mlflow_skinny": "mlflow", "kafka_python": "kafka",
    "faiss_cpu": "faiss", "faiss_gpu": "faiss", "psycopg2_binary": "psycopg2",
    "psycopg_binary": "psycopg", "pinecone_client": "pinecone", "dvc_s3": "dvc",
    "great_expectations_core": "great_expectations", "sagemaker_python_sdk": "sagemaker",
    "langchain_community": "langchain", "onnxruntime_gpu": "onnxruntime",
    "scikit_image": "skimage", "scikit_surprise": "surprise", "azureml_core": "azureml",
    "azure_ai_ml": "azureml", "google_cloud_bigquery": "google.cloud.bigquery",
    "google_cloud_aiplatform": "google.cloud.aiplatform", "snowflake_connector_python": "snowflake",
    "snowflake_snowpark_python": "snowflake", "dbt_core": "dbt", "dbt_postgres": "dbt",
    "dbt_snowflake": "dbt", "dbt_bigquery": "dbt", "apache_flink": "pyflink",
    "apache_beam": "apache_beam", "soda_core": "soda", "label_studio": "label_studio_sdk",
    "ray_serve": "ray.serve", "torchserve": "torchserve", "tritonclient_http": "tritonclient",
    "stable_baselines3": "stable_baselines3", "feast_core": "feast", "tensorrt_cu12": "tensorrt",
    "openvino_dev": "openvino", "nvidia_tensorrt": "tensorrt", "pycuda": "pycuda",
    "cupy_cuda12x": "cupy", "cupy_cuda11x": "cupy", "tensorflow_data_validation": "tensorflow_data_validation",
    "alibi_detect": "alibi_detect", "whylogs": "whylogs", "pytorch_lightning": "pytorch_lightning",
}  # fmt: skip

JS_PACKAGES: dict[str, tuple[str, ...]] = {
    "@tensorflow/tfjs": ("tensorflow",), "@tensorflow/tfjs-node": ("tensorflow",),
    "openai": ("llm_engineering",), "langchain": ("llm_engineering",),
    "@langchain/core": ("llm_engineering",), "@huggingface/transformers": ("hugging_face",),
    "@xenova/transformers": ("hugging_face",), "onnxruntime-web": ("onnx",),
    "onnxruntime-node": ("onnx",), "react": ("web_development",), "vue": ("web_development",),
    "next": ("web_development",), "express": ("api_development",),
}  # fmt: skip

# What code does: (skill names, signal, pattern). Python sources and notebooks.
CODE_PATTERNS: tuple[tuple[tuple[str, ...], str, re.Pattern[str]], ...] = (
    (("model_registry",), "model_registry_call", re.compile(
        r"\b(?:register_model|create_registered_model|create_model_version|"
        r"transition_model_version_stage|set_registered_model_alias|registered_model_name\s*=)"
        r"|\bmodels:/")),
    (("distributed_training",), "distributed_call", re.compile(
        r"\b(?:DistributedDataParallel|init_process_group|FullyShardedDataParallel|"
        r"TorchTrainer|MultiWorkerMirroredStrategy|DistributedSampler)\b")),
    (("gpu_computing",), "cuda_call", re.compile(
        r"""\btorch\.cuda\b|\.cuda\(\)|\bdevice\s*=\s*["']cuda|\bto\(\s*["']cuda""")),
    (("model_serving",), "serve_call", re.compile(
        r"@serve\.deployment|\bserve\.run\(|\bmlflow\.pyfunc\.load_model\b|"
        r"\bbentoml\.(?:service|Service)\b")),
    (("quantization",), "quantize_call", re.compile(r"\bquantize_dynamic\b|\bload_in_[48]bit\b")),
    (("hyperparameter_tuning",), "search_call", re.compile(
        r"\b(?:GridSearchCV|RandomizedSearchCV|HalvingGridSearchCV|HalvingRandomSearchCV|"
        r"BayesSearchCV)\(|\bwandb\.sweep\(|\boptuna\.create_study\(")),
)  # fmt: skip

# A web handler that loads a model and predicts is model serving (FastAPI, Flask, a Lambda).
WEB_APP = re.compile(r"\bFastAPI\(|\bFlask\(__name__|\bdef\s+lambda_handler\s*\(|\bAPIRouter\(")
MODEL_USE = re.compile(
    r"\b(?:joblib\.load|pickle\.load|torch\.load|load_model|from_pretrained|onnxruntime\."
    r"InferenceSession|mlflow\.\w+\.load_model|xgb\.Booster|\.predict(?:_proba)?\()"
)

# Entry points in Dockerfiles, compose files, Makefiles, Procfiles and shell scripts.
ENTRY_PATTERNS: tuple[tuple[tuple[str, ...], str, re.Pattern[str]], ...] = (
    (("model_serving",), "serve_entry", re.compile(
        r"\bmlflow\s+models\s+serve\b|\bbentoml\s+serve\b|\btorchserve\b|\bserve\s+run\b|"
        r"tritonserver|\bseldon\b|\bkserve\b")),
    (("api_development",), "web_entry", re.compile(r"\b(?:uvicorn|gunicorn)\b")),
    (("distributed_training",), "launch_entry", re.compile(
        r"\btorchrun\b|torch\.distributed\.(?:run|launch)|\bdeepspeed\s|\baccelerate\s+launch\b")),
    (("experiment_tracking",), "tracking_entry", re.compile(r"\bmlflow\s+(?:server|ui)\b")),
)  # fmt: skip
# A CI workflow on a timer that trains: retraining on a schedule (GitHub Actions, GitLab).
SCHEDULE = re.compile(r"^\s*(?:schedule:|-\s*cron:|cron:)", re.MULTILINE)
TRAINING = re.compile(r"\b(?:train|retrain|fit)\w*\b", re.IGNORECASE)
ENTRY_NAMES = frozenset({"makefile", "procfile", "justfile"})
ENTRY_SUFFIXES = (".sh", ".bash")

# Configuration files of tools, by file name (lower case) or by a folder they live in.
CONFIG_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "dbt_project.yml": (("dbt",), "dbt_project"),
    "feature_store.yaml": (("feast",), "feature_store_config"),
    "great_expectations.yml": (("great expectations",), "expectations_config"),
    "bentofile.yaml": (("bentoml",), "bento_config"),
    "mlproject": (("experiment_tracking",), "mlflow_project"),
    "serverless.yml": (("cloud_platforms",), "serverless_config"),
    "sagemaker.yaml": (("sagemaker",), "sagemaker_config"),
}
CONFIG_DIRS: dict[str, tuple[tuple[str, ...], str]] = {
    "great_expectations": (("great expectations",), "expectations_config"),
    "gx": (("great expectations",), "expectations_config"),
    "grafana": (("model_monitoring",), "grafana_config"),
    "dags": (("airflow",), "dags_folder"),
}

# GitHub's language names (linguist) and the skill a real share of each shows.
LANGUAGE_SKILLS = {
    "Python": "python", "Jupyter Notebook": "python", "SQL": "sql", "PLpgSQL": "sql",
    "TSQL": "sql", "R": "r_programming", "Julia": "scientific_computing",
    "MATLAB": "scientific_computing", "Fortran": "scientific_computing",
    "JavaScript": "web_development", "TypeScript": "web_development", "HTML": "web_development",
    "CSS": "web_development", "Vue": "web_development", "Svelte": "web_development",
    "Shell": "linux_shell", "HCL": "infrastructure_as_code", "Cuda": "gpu_computing",
    "Dockerfile": "docker",
}  # fmt: skip

# Skills the file names and folders alone can show (see repo_signals._path_signals).
PATH_SKILLS = ("ml_testing", "docker", "ci_cd_ml", "experiment_tracking", "data_versioning",
               "model_documentation", "model_monitoring", "kubernetes", "infrastructure_as_code")  # fmt: skip


def repository_skills(resolve: Callable[[str], str | None]) -> set[str]:
    """Every skill id a repository can show through these tables (for docs/connectors.md)."""
    names = [
        n for table in (LIBRARIES, MODULES, IMPLIED, JS_PACKAGES) for v in table.values() for n in v
    ]
    names += [n for skills, _, _ in (*CODE_PATTERNS, *ENTRY_PATTERNS) for n in skills]
    names += [n for skills, _ in (*CONFIG_FILES.values(), *CONFIG_DIRS.values()) for n in skills]
    names += [*LANGUAGE_SKILLS.values(), *PATH_SKILLS, "model_serving", "model_retraining", "git"]
    return {skill for name in names if (skill := resolve(name)) is not None}
