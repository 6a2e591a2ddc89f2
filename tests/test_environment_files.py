"""requirements.txt (pip, `make setup`) and environment.yml (conda, Binder) describe one environment."""

import re
import tomllib

import yaml
from notebook_hygiene import REPOSITORY
from packaging.requirements import Requirement

# Tools of the environment itself, not packages the course uses.
CONDA_ONLY = {"python", "pip"}


def normalise(line: str) -> str:
    """One spelling for a requirement, whichever file it comes from: `name[extras] specifiers`."""
    requirement = Requirement(re.sub(r"\s+", "", line))
    name = re.sub(r"[-_.]+", "-", requirement.name).lower()
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{name}{extras}{','.join(sorted(str(s) for s in requirement.specifier))}"


def pip_requirements() -> set[str]:
    lines = (REPOSITORY / "requirements.txt").read_text().splitlines()
    return {normalise(line) for line in lines if line.strip() and not line.lstrip().startswith("#")}


def conda_environment() -> dict:
    return yaml.safe_load((REPOSITORY / "environment.yml").read_text())


def conda_requirements() -> set[str]:
    found = set()
    for dependency in conda_environment()["dependencies"]:
        if isinstance(dependency, dict):
            found |= {normalise(line) for line in dependency["pip"]}
        elif re.split(r"[=<>!~ ]", dependency)[0] not in CONDA_ONLY:
            found.add(normalise(dependency))
    return found


def conda_python() -> str:
    pins = [d for d in conda_environment()["dependencies"] if isinstance(d, str) and d.startswith("python=")]
    assert len(pins) == 1, f"environment.yml must pin exactly one Python, found {pins}"
    return pins[0].removeprefix("python=")


def test_both_files_name_the_same_packages_and_ranges() -> None:
    pip, conda = pip_requirements(), conda_requirements()
    assert pip == conda, f"only in requirements.txt: {sorted(pip - conda)}; only in environment.yml: {sorted(conda - pip)}"


def test_binder_python_is_the_oldest_python_the_package_supports() -> None:
    """Binder runs environment.yml's Python; CI tests the same one (.ci/run checks `python3`)."""
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={conda_python()}"


def test_requirement_spellings_are_compared_not_copied() -> None:
    assert normalise("openai[aiohttp] >= 1.99, <4") == normalise("OpenAI[aiohttp]<4,>=1.99")
    assert normalise("nest_asyncio2>=1.7") != normalise("nest-asyncio2>=1.6")
