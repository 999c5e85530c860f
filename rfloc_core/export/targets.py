"""Where ``rfloc export`` may write: a file path that is new, or an artifact rfloc wrote."""

from __future__ import annotations

import json
from pathlib import Path

from rfloc_core.export.errors import ArtifactError
from rfloc_core.owned_folder import remove_owned


def _written_by_rfloc(path: Path) -> bool:
    """An ONNX file carrying rfloc metadata, or a file with an rfloc engine sidecar beside it."""
    sidecar = path.with_name(path.name + ".json")
    try:
        if sidecar.is_file() and json.loads(sidecar.read_text(encoding="utf-8")).get("format"):
            return True
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        pass
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return False
    return any(prop.key == "rfloc.backbone" for prop in model.metadata_props)


def check_export_target(out: Path, *, overwrite: bool) -> None:
    """Refuse a folder, and a file rfloc did not write unless ``overwrite``; remove what an
    earlier export to ``out`` that was killed left half-written beside it."""
    if out.is_dir():
        raise ArtifactError(
            f"--out {out} is a folder; give the file to write, e.g. {out / 'model.onnx'}"
        )
    if out.exists() and not overwrite and not _written_by_rfloc(out):
        raise ArtifactError(
            f"--out {out} exists and was not written by rfloc export; choose a new file name, "
            "or pass --overwrite to replace it"
        )
    if out.parent.is_dir():
        remove_owned(out.parent, (), temporaries_of=(out.name, out.name + ".json"))
