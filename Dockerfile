# SkillAudit: one image for the bot replicas and the Chroma server (`chroma run` ships with
# the chromadb package the bot already depends on, so client and server versions match).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SKILLAUDIT_HOME=/data \
    MLFLOW_DISABLE_TELEMETRY=true \
    ANONYMIZED_TELEMETRY=False

# /data/users exists in the image so that the volume docker-compose.yml mounts there (the
# people's folders, shared by the replicas) starts owned by the skillaudit user.
RUN useradd --create-home --uid 10001 skillaudit \
    && mkdir -p /data/users && chown -R skillaudit /data

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY agent agent
COPY bots bots
COPY tools tools
COPY knowledge knowledge
COPY prompts prompts
RUN pip install '.[postgres]'

USER skillaudit
VOLUME ["/data"]
ENTRYPOINT ["skillaudit"]
CMD ["--help"]
