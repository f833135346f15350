"""Nothing in the repository cites a file that is not in it."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = ("docs", "scripts", "examples", "tests", "kerasrnn_torch", ".ci")
PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./-]*\w\.(?:md|py|sh|json|yml|toml))" % "|".join(re.escape(t) for t in TOP))


def repository_files():
    """The tracked files in a git checkout; every file in an unpacked sdist (no .git there)."""
    if os.path.isdir(os.path.join(ROOT, ".git")):
        return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [os.path.relpath(os.path.join(folder, name), ROOT)
            for folder, dirs, names in os.walk(ROOT) for name in names
            if not any(part.startswith(".") or part.endswith(".egg-info") or part == "__pycache__"
                       for part in os.path.relpath(folder, ROOT).split(os.sep) if part != ".")
            or os.path.relpath(folder, ROOT) == ".ci"]


def tracked_text_files():
    for name in repository_files():
        if name.endswith((".py", ".md", ".sh", ".toml", ".yml", ".txt", ".in")) or name == ".ci/run":
            yield name


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as file:
        return file.read()


def test_every_cited_repository_path_exists():
    missing = []
    for name in tracked_text_files():
        for cited in set(PATH.findall(read(name))):
            if "*" not in cited and not os.path.exists(os.path.join(ROOT, cited)):
                missing.append(f"{name}: {cited}")
    assert not missing, "files cited but not in the repository:\n" + "\n".join(sorted(missing))


def test_no_document_outside_the_repository_is_cited():
    outside = re.compile(r"\.\./shared|\bAPI\.md\b|\bSTYLE\.md\b")
    cited = [name for name in tracked_text_files()
             if name != "tests/repository/test_repository_references.py"
             and outside.search(read(name))]
    assert not cited, f"these files cite documents kept outside the repository: {cited}"
