import nbformat
import pytest

from maops_utils.errors import ConfigError
from maops_utils.runner import check_parameters, notebook_parameters


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os"),
        nbformat.v4.new_code_cell(
            'month: str = ""  # month\nlimit: int = 3  # how many\nratio: float = 0.5\nflag: bool = False',
            metadata={"tags": ["parameters"]},
        ),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_parameters_are_read_from_the_tagged_cell(notebook):
    assert notebook_parameters(notebook) == {
        "month": "str",
        "limit": "int",
        "ratio": "float",
        "flag": "bool",
    }


def test_valid_parameters_pass(notebook):
    check_parameters(notebook, {"month": "2026-10", "limit": 5, "ratio": 1, "flag": True})


def test_unknown_parameter_is_refused_with_a_suggestion(notebook):
    with pytest.raises(ConfigError, match=r"'mnth' is not declared.*did you mean 'month'"):
        check_parameters(notebook, {"mnth": "2026-10"})


@pytest.mark.parametrize(
    "name, value",
    [("limit", "3"), ("limit", True), ("month", 202610), ("flag", "yes"), ("ratio", "0.5")],
)
def test_wrongly_typed_parameter_is_refused(notebook, name, value):
    with pytest.raises(ConfigError, match=f"parameter '{name}'.*must be"):
        check_parameters(notebook, {name: value})


def test_code_in_a_string_parameter_stays_a_string(notebook):
    # papermill writes values as Python literals; a str is only ever a str literal
    check_parameters(notebook, {"month": '"); import os; os.system("echo hacked'})


def test_notebook_without_parameters_cell_is_an_error(tmp_path):
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)
    with pytest.raises(ConfigError, match="tagged 'parameters'"):
        notebook_parameters(path)
