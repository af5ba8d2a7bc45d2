import subprocess
import sys

HEAVY = ("cv2", "open3d", "trimesh", "onnxruntime", "fastapi", "scipy")


def test_importing_the_package_and_cli_stays_light():
    code = (
        "import sys, arinspect, arinspect.cli; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_no_module_shadows_the_standard_library():
    from pathlib import Path

    import arinspect

    names = {p.stem for p in Path(arinspect.__file__).parent.rglob("*.py")}
    names |= {p.name for p in Path(arinspect.__file__).parent.rglob("*") if p.is_dir()}
    assert not names & set(sys.stdlib_module_names)
