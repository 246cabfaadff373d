"""The packages import downwards only: the layering README's « Layout » describes.

Read from the source (every import, those inside functions too), so a shortcut taken
anywhere shows here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "domain",
    "reading",
    "model_records",
    "nlu",
    "dialogues",
    "storage",
    "advice_content",
    "bot",
)
# What each package may import among the project's packages.
ALLOWED = {
    "domain": set(),
    "reading": {"domain"},
    "model_records": {"domain"},
    "nlu": {"domain", "reading", "model_records"},
    "dialogues": {"domain", "reading"},
    "storage": {"domain"},
    "advice_content": {"domain"},
    "bot": {"domain", "reading", "model_records", "dialogues", "storage", "advice_content"},
}
# Third-party imports that would put a package in the wrong world.
FORBIDDEN_LIBRARIES = {
    "domain": {"aiohttp", "telegram", "rasa", "sqlalchemy", "PIL"},
    "reading": {"aiohttp", "telegram", "rasa", "sqlalchemy", "PIL"},
    "dialogues": {"aiohttp", "telegram", "rasa", "sqlalchemy"},
    "storage": {"aiohttp", "telegram", "rasa"},
    "bot": {"rasa", "tensorflow"},
}


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_every_package_imports_only_the_packages_below_it() -> None:
    wrong = []
    for package in PACKAGES:
        for path, names in _imports(package).items():
            for name in names & set(PACKAGES) - {package} - ALLOWED[package]:
                wrong.append(f"{path} imports {name}")
    assert not wrong, wrong


def test_no_package_reaches_into_another_world() -> None:
    wrong = []
    for package, libraries in FORBIDDEN_LIBRARIES.items():
        for path, names in _imports(package).items():
            wrong += [f"{path} imports {name}" for name in names & libraries]
    assert not wrong, wrong


def _module_graph() -> dict[str, set[str]]:
    """Module → the project's modules it imports at run time (imports inside functions
    included; `if TYPE_CHECKING:` blocks left out: they run only for the type checker)."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        checking = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
            for n in ast.walk(block)
        }
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in checking:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def test_no_module_imports_itself_back() -> None:
    """No import cycle, not even one broken by an import inside a function."""
    graph = _module_graph()
    cycles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" → ".join((*path, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*path, nxt)))
    assert not cycles, cycles[:5]


# The configuration is read once, by these, and passed down.
READS_CONFIGURATION = {"bot/process/config.py", "nlu/cli.py"}


def test_the_environment_is_read_once_by_the_configuration() -> None:
    readers = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                key = None
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", ""))
                    in ("get", "getenv")
                    and node.args
                ):
                    key = node.args[0]
                elif (
                    isinstance(node, ast.Subscript) and getattr(node.value, "attr", "") == "environ"
                ):
                    key = node.slice
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and key.value.startswith("JALERTE_")
                ):
                    readers.append(f"{path.relative_to(ROOT)}: {key.value}")
    assert all(r.split(":")[0] in READS_CONFIGURATION for r in readers), readers
