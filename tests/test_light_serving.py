"""Serving never imports TensorFlow or Keras: the server runs LiteRT files, training is another install."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_building_the_app_and_answering_imports_no_tensorflow_or_keras(tmp_path, seven):
    SEVEN = tmp_path / "seven.png"
    SEVEN.write_bytes(seven)
    script = f"""
import sys
from webapp import create_app
app = create_app({{"TESTING": True, "DATABASE": {str(tmp_path / "d.sqlite")!r}}})
client = app.test_client()
assert client.get("/api/health").status_code == 200
assert client.get("/").status_code == 200
seven = open({str(SEVEN)!r}, "rb").read()
assert client.post("/api/predict?model=all", data=seven, content_type="image/png").get_json()["digit"] == 7
heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
print(",".join(heavy))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""
