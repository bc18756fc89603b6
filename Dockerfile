FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The CPU build of torch first, so the project never pulls a CUDA build.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY graph_service ./graph_service
COPY loaders ./loaders
COPY models ./models
COPY cypher ./cypher
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["prodgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
