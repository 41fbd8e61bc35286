# OpesCare Sandbox as a container: docker build -t opescare-sandbox . && docker run -p 8080:8080 opescare-sandbox
# Untested here (the machine that built this has no Docker engine); tests/test_ci_docs.py checks it against the CLI.
FROM python:3.11-slim

WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir /app

EXPOSE 8080
# Readiness: the same endpoint a CI job polls. The slim image has no curl, so Python asks.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/sandbox/health', timeout=2)"]

# In memory: every container starts from the seeded world. Add --data-dir /data (and a volume) to keep state.
CMD ["opescare-sandbox", "serve", "--host", "0.0.0.0", "--port", "8080", "--in-memory"]
