# The app alone, served as `make run` serves it (gunicorn with the gevent worker of webapp/server.py), with the
# serving requirements only (no TensorFlow: the models are LiteRT files). nginx, PostgreSQL and Redis are
# containers of their own: deploy/compose.yaml runs them together, as `make cluster` does on one machine.
#
#   docker build -t digitdraw .
#   docker compose -f deploy/compose.yaml up -d --build --scale app=3
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The package is found where it lies (editable, as the Makefile installs it): the app reads templates/,
# static/ and model/ beside webapp/ (webapp.PROJECT_ROOT).
COPY pyproject.toml README.md ./
COPY webapp/ webapp/
COPY templates/ templates/
COPY static/ static/
COPY model/ model/
# flask's commands load every command the package registers: `flask finetune` is training's (training/cli.py,
# which says in one sentence that this image cannot fine-tune); nothing else of training/ is in the image.
COPY training/__init__.py training/cli.py training/
RUN pip install --no-deps -e . \
    && pybabel -q compile -d webapp/translations -D messages && pybabel -q compile -d webapp/translations -D js \
    && useradd --system --no-create-home --uid 10001 digitdraw \
    && mkdir instance && chown digitdraw instance   # the SQLite file when run without DIGITDRAW_DATABASE
USER digitdraw

# The image is made to run behind nginx (one proxy hop: its X-Forwarded-For is believed). Exposed directly to
# clients, set DIGITDRAW_TRUSTED_PROXIES=0, or a client could choose the address its rate limit counts.
ENV DIGITDRAW_TRUSTED_PROXIES=1 \
    WEB_CONCURRENCY=2
EXPOSE 8000

# No curl in the slim image: python asks /api/health (urlopen raises on a 503, so the check fails).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]

# WEB_CONCURRENCY is gunicorn's number of workers (make run's WORKERS).
CMD ["gunicorn", "-c", "python:webapp.server", "--bind", "0.0.0.0:8000", "webapp:create_app()"]
