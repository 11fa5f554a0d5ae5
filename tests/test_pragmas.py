"""Placement of `#pragma acc` directives in a function's block structure (frontend/pragmas.py).

Each kernel is written into a real file, compiled, run, and compared with CPython running the
same function; the placement of its directives is checked on the IR (`inspect_ir()`), reduced to
a skeleton that keeps the structure and drops expression details::

    acc "data copy(A)" {          a region (block construct closed by `end`)
      for %i acc "parallel loop" {  a loop with its loop directive
        %A[%i] =                     a statement: its target only
      }
      acc "update host(A)"          a standalone directive
    }

The kernels are compiled with the `normalize` pipeline only, so that no pass duplicates loops.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import accir
from accir import DirectiveSyntaxError

PREAMBLE = '''\
"""Kernels for accir's directive placement tests (written by tests/test_pragmas.py)."""

import numpy as np

import accir

OFFSET = 0.5


'''


def load(tmp_path: Path, source: str, name: str = "kernel") -> tuple[Any, str]:
    """Write `source` (dedented) after a preamble into a real file and import it."""
    path = tmp_path / "kernels.py"
    path.write_text(PREAMBLE + textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"accir_pragmas_{tmp_path.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return eval(name, vars(module)), str(path)


def skeleton(ir: str) -> str:
    """The structure of the first function of a module's IR text (see the module docstring)."""
    out: list[str] = []
    for line in ir.splitlines()[1:]:
        if line.startswith("}"):
            break
        body = line[2:]
        indent = " " * (len(body) - len(body.lstrip()))
        text = re.sub(r"^[SL]\d+: ", "", body.strip())
        if text.startswith("var "):
            continue
        if text.startswith("for "):
            m = re.fullmatch(r'for (%\S+) = .*? step \S+?( acc ".*")? \{', text)
            assert m is not None, text
            text = f"for {m[1]}{m[2] or ''} {{"
        elif text.startswith(("if ", "while ")):
            text = text.split(" ", 1)[0] + " {"
        elif " = " in text and not text.startswith('acc "'):
            text = text.split(" = ", 1)[0] + " ="
        out.append(indent + text)
    return "\n".join(out)


def run_both(tmp_path: Path, source: str, *args: Any, name: str = "kernel") -> str:
    """Run the kernel under CPython and compiled, on copies of `args`; check that results and
    arguments agree; return the skeleton of the compiled IR."""
    fn, _ = load(tmp_path, source, name)
    expected_args = copy.deepcopy(args)
    expected = fn(*expected_args)
    compiled = accir.compile(fn, pipeline="normalize")
    got_args = copy.deepcopy(args)
    got = compiled(*got_args)
    assert got == expected
    for e, g in zip(expected_args, got_args, strict=True):
        if isinstance(e, np.ndarray):
            np.testing.assert_array_equal(g, e)
    return skeleton(compiled.inspect_ir())


def shape(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def vec(n: int = 5) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


def mat(n: int = 4) -> np.ndarray:
    return np.arange(n * n, dtype=np.float64).reshape(n, n)


# ------------------------------------------------------------------------------ loops


def test_loop_directive_directly_above_for(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc parallel loop
            for i in range(n):
                A[i] = 2.0 * i
            A[0] = -1.0
        """, vec(), 5)
    assert ir == shape("""
        for %i acc "parallel loop" {
          %A[%i] =
        }
        %A[0] =
        """)


@pytest.mark.parametrize(
    ("directive", "printed"),
    [
        ("parallel loop", "parallel loop"),
        ("kernels loop", "kernels loop"),
        ("serial loop", "serial loop"),
        ("loop", "loop"),
        ("loop gang vector", "loop gang vector"),
        ("parallel loop independent", "parallel loop independent"),
        ("loop seq", "loop seq"),
        ("parallel loop reduction(+:total)", "parallel loop reduction(+: total)"),
    ],
)
def test_loop_directive_variants(tmp_path: Path, directive: str, printed: str) -> None:
    ir = run_both(tmp_path, f"""
        def kernel(A, n):
            total = 0.0
            #pragma acc {directive}
            for i in range(n):
                total += A[i]
            return total
        """, vec(), 5)
    assert ir == shape(f"""
        %total =
        for %i acc "{printed}" {{
          %total =
        }}
        return %total
        """)


def test_collapse_on_a_tight_nest(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            #pragma acc parallel loop collapse(2) copy(B)
            for i in range(n):
                for j in range(n):
                    B[i, j] = B[i, j] + i * j
        """, mat(), 4)
    assert ir == shape("""
        for %i acc "parallel loop collapse(2) copy(B)" {
          for %j {
            %B[%i, %j] =
          }
        }
        """)


def test_loop_directive_on_inner_loop_only(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            for i in range(n):
                #pragma acc loop vector
                for j in range(n):
                    B[i, j] = i - j
        """, mat(), 4)
    assert ir == shape("""
        for %i {
          for %j acc "loop vector" {
            %B[%i, %j] =
          }
        }
        """)


# ------------------------------------------------------------------------------ regions


def test_block_construct_with_several_statements(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, B, n):
            #pragma acc data copyin(B) copyout(A)
            t = n * 2.0
            for i in range(n):
                A[i] = B[i] + t
            A[0] = t
            #pragma acc end data
            A[1] = 5.0
        """, vec(), vec() * 3, 5)
    assert ir == shape("""
        acc "data copyin(B) copyout(A)" {
          %t =
          for %i {
            %A[%i] =
          }
          %A[0] =
        }
        %A[1] =
        """)


@pytest.mark.parametrize("construct", ["parallel", "kernels", "serial"])
def test_compute_region_closed_by_end(tmp_path: Path, construct: str) -> None:
    ir = run_both(tmp_path, f"""
        def kernel(A, n):
            #pragma acc {construct} copy(A)
            for i in range(n):
                A[i] += 1.0
            A[0] = A[1] * 2.0
            #pragma acc end {construct}
        """, vec(), 5)
    assert ir == shape(f"""
        acc "{construct} copy(A)" {{
          for %i {{
            %A[%i] =
          }}
          %A[0] =
        }}
        """)


def test_nested_regions(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc data copy(A)
            #pragma acc parallel
            #pragma acc loop gang
            for i in range(n):
                A[i] += 1.0
            #pragma acc end parallel
            #pragma acc kernels
            for i in range(n):
                A[i] *= 2.0
            A[0] = 0.5
            #pragma acc end kernels
            #pragma acc host_data use_device(A)
            A[1] = 3.0
            #pragma acc end host_data
            #pragma acc end data
        """, vec(), 5)
    assert ir == shape("""
        acc "data copy(A)" {
          acc "parallel" {
            for %i acc "loop gang" {
              %A[%i] =
            }
          }
          acc "kernels" {
            for %i {
              %A[%i] =
            }
            %A[0] =
          }
          acc "host_data use_device(A)" {
            %A[1] =
          }
        }
        """)


def test_same_construct_nested_in_itself(tmp_path: Path) -> None:
    """`end data` closes the innermost open `data`."""
    ir = run_both(tmp_path, """
        def kernel(A, B, n):
            #pragma acc data copy(A)
            A[0] = 1.0
            #pragma acc data copyin(B)
            A[1] = B[1]
            #pragma acc end data
            A[2] = 2.0
            #pragma acc end data
        """, vec(), vec(), 5)
    assert ir == shape("""
        acc "data copy(A)" {
          %A[0] =
          acc "data copyin(B)" {
            %A[1] =
          }
          %A[2] =
        }
        """)


def test_region_inside_a_loop_body(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            for j in range(n):
                #pragma acc data copy(B)
                for i in range(n):
                    B[j, i] = i + j
                B[j, 0] = -1.0
                #pragma acc end data
                B[j, 1] = 7.0
            B[0, 0] = 9.0
        """, mat(), 4)
    assert ir == shape("""
        for %j {
          acc "data copy(B)" {
            for %i {
              %B[%j, %i] =
            }
            %B[%j, 0] =
          }
          %B[%j, 1] =
        }
        %B[0, 0] =
        """)


def test_parallel_without_end_applies_to_the_next_loop_only(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc parallel copy(A)
            for i in range(n):
                A[i] = 1.0 + i
            A[0] = 2.0
            for i in range(n):
                A[i] += 1.0
        """, vec(), 5)
    assert ir == shape("""
        acc "parallel copy(A)" {
          for %i {
            %A[%i] =
          }
        }
        %A[0] =
        for %i {
          %A[%i] =
        }
        """)


@pytest.mark.parametrize("construct", ["kernels", "serial", "data copy(A)"])
def test_other_block_constructs_without_end(tmp_path: Path, construct: str) -> None:
    ir = run_both(tmp_path, f"""
        def kernel(A, n):
            #pragma acc {construct}
            for i in range(n):
                A[i] = 3.0
            A[0] = 2.0
        """, vec(), 5)
    assert ir == shape(f"""
        acc "{construct}" {{
          for %i {{
            %A[%i] =
          }}
        }}
        %A[0] =
        """)


def test_parallel_without_end_above_a_loop_directive(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc parallel
            #pragma acc loop gang
            for i in range(n):
                A[i] = 1.0
            A[0] = 2.0
        """, vec(), 5)
    assert ir == shape("""
        acc "parallel" {
          for %i acc "loop gang" {
            %A[%i] =
          }
        }
        %A[0] =
        """)


def test_combined_construct_with_optional_end(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc parallel loop
            for i in range(n):
                A[i] = 1.0 * i
            #pragma acc end parallel loop
            A[0] = 2.0
            #pragma acc kernels loop
            for i in range(n):
                A[i] += 1.0
            #pragma acc end kernels loop
            #pragma acc serial loop
            for i in range(n):
                A[i] *= 3.0
        """, vec(), 5)
    assert ir == shape("""
        for %i acc "parallel loop" {
          %A[%i] =
        }
        %A[0] =
        for %i acc "kernels loop" {
          %A[%i] =
        }
        for %i acc "serial loop" {
          %A[%i] =
        }
        """)


# ------------------------------------------------------------------------------ if / else


def test_directives_in_if_and_else_branches(tmp_path: Path) -> None:
    source = """
        def kernel(A, n):
            if n > 2:
                #pragma acc parallel loop
                for i in range(n):
                    A[i] = 1.0
                #pragma acc update host(A)
            else:
                #pragma acc kernels loop
                for i in range(n):
                    A[i] = 2.0
            A[0] = 0.0
        """
    expected = shape("""
        if {
          for %i acc "parallel loop" {
            %A[%i] =
          }
          acc "update host(A)"
        } else {
          for %i acc "kernels loop" {
            %A[%i] =
          }
        }
        %A[0] =
        """)
    assert run_both(tmp_path, source, vec(), 5) == expected
    assert run_both(tmp_path, source, vec(), 2) == expected


def test_directive_between_else_and_its_first_statement(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            if n > 10:
                A[0] = 1.0
            else:
                #pragma acc data copy(A)
                A[1] = 2.0
                A[2] = 3.0
                #pragma acc end data
        """, vec(), 5)
    assert ir == shape("""
        if {
          %A[0] =
        } else {
          acc "data copy(A)" {
            %A[1] =
            %A[2] =
          }
        }
        """)


def test_directives_in_elif_chain(tmp_path: Path) -> None:
    source = """
        def kernel(A, n):
            if n > 10:
                A[0] = 1.0
            elif n > 3:
                #pragma acc parallel loop
                for i in range(n):
                    A[i] = 4.0
            else:
                #pragma acc serial loop
                for i in range(n):
                    A[i] = 5.0
        """
    expected = shape("""
        if {
          %A[0] =
        } else {
          if {
            for %i acc "parallel loop" {
              %A[%i] =
            }
          } else {
            for %i acc "serial loop" {
              %A[%i] =
            }
          }
        }
        """)
    for n in (11, 5, 2):
        assert run_both(tmp_path, source, vec(12), n) == expected


def test_directive_after_if_body_at_if_indentation(tmp_path: Path) -> None:
    """A comment at the `if`'s own indentation after its body belongs after the `if`."""
    ir = run_both(tmp_path, """
        def kernel(A, n):
            if n > 2:
                A[0] = 1.0
            #pragma acc update host(A)
            A[1] = 2.0
        """, vec(), 5)
    assert ir == shape("""
        if {
          %A[0] =
        }
        acc "update host(A)"
        %A[1] =
        """)


# ------------------------------------------------------------------------------ column 0


def test_c_style_directives_at_column_0_in_nested_blocks(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            for j in range(n):
                if j > 0:
        #pragma acc loop vector
                    for i in range(n):
                        B[j, i] = i
        #pragma acc update self(B)
                B[j, 0] = 1.0
        #pragma acc parallel loop
            for i in range(n):
                B[i, i] = 0.0
        """, mat(), 4)
    assert ir == shape("""
        for %j {
          if {
            for %i acc "loop vector" {
              %B[%j, %i] =
            }
          }
          acc "update self(B)"
          %B[%j, 0] =
        }
        for %i acc "parallel loop" {
          %B[%i, %i] =
        }
        """)


def test_end_directive_at_column_0(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            for j in range(n):
        #pragma acc data copy(B)
                for i in range(n):
                    B[j, i] = 1.0
                B[j, 0] = 2.0
        #pragma acc end data
            B[0, 0] = 3.0
        """, mat(), 4)
    assert ir == shape("""
        for %j {
          acc "data copy(B)" {
            for %i {
              %B[%j, %i] =
            }
            %B[%j, 0] =
          }
        }
        %B[0, 0] =
        """)


def test_indented_region_closed_at_column_0_in_a_method(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        class Kernels:
            @staticmethod
            def kernel(A, n):
                if n > 0:
                    #pragma acc kernels
                    A[0] = 1.0
                    A[1] = 2.0
        #pragma acc end kernels
                A[2] = 3.0
        """, vec(), 5, name="Kernels.kernel")
    assert ir == shape("""
        if {
          acc "kernels" {
            %A[0] =
            %A[1] =
          }
        }
        %A[2] =
        """)


def test_c_style_loop_directive_in_a_method(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        class Kernels:
            def kernel(self, A, n):
        #pragma acc parallel loop
                for i in range(n):
                    A[i] = 1.0
        """, vec(), 5, name="Kernels().kernel")
    assert ir == shape("""
        for %i acc "parallel loop" {
          %A[%i] =
        }
        """)


def test_end_combined_directive_at_column_0(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            for j in range(n):
        #pragma acc parallel loop
                for i in range(n):
                    B[j, i] += 1.0
        #pragma acc end parallel loop
            B[0, 0] = 0.0
        """, mat(), 4)
    assert ir == shape("""
        for %j {
          for %i acc "parallel loop" {
            %B[%j, %i] =
          }
        }
        %B[0, 0] =
        """)


# ------------------------------------------------------------------------------ continuation


def test_backslash_continuation_over_several_lines(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            #pragma acc parallel loop \\
            #    collapse(2) \\
            #pragma acc    copy(B) \\
            #    independent
            for i in range(n):
                for j in range(n):
                    B[i, j] = B[j, i] * 0.0 + i
        """, mat(), 4)
    assert ir == shape("""
        for %i acc "parallel loop collapse(2) copy(B) independent" {
          for %j {
            %B[%i, %j] =
          }
        }
        """)


@pytest.mark.parametrize("where", ["function", "method"])
def test_error_column_in_a_continuation_line(tmp_path: Path, where: str) -> None:
    source = textwrap.dedent("""\
        def kernel(B, n):
            #pragma acc parallel loop \\
            #    copy(B) \\
            #      colapse(2)
            for i in range(n):
                for j in range(n):
                    B[i, j] = 1.0
        """)
    name = "kernel"
    if where == "method":
        source = "class Kernels:\n    @staticmethod\n" + textwrap.indent(source, "    ")
        name = "Kernels.kernel"
    fn, path = load(tmp_path, source, name)
    with pytest.raises(DirectiveSyntaxError) as info:
        accir.compile(fn)(mat(), 4)
    err = info.value
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    line = next(k for k, text in enumerate(lines, 1) if "colapse(2)" in text)
    col = lines[line - 1].index("colapse") + 1
    assert err.loc is not None
    assert (err.loc.file, err.loc.line, err.loc.col) == (path, line, col)
    assert "'colapse'" in err.message
    assert str(err).split("\n")[:3] == [
        f"{path}:{line}:{col}: error: {err.message}",
        "    " + lines[line - 1],
        "    " + " " * (col - 1) + "^",
    ]


# ------------------------------------------------------------------------------ atomic


def test_atomic_update_before_augmented_assignment(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, B, n):
            #pragma acc parallel loop
            for i in range(n):
                #pragma acc atomic update
                A[0] += B[i]
                B[i] = 0.0
        """, vec(), vec(), 5)
    assert ir == shape("""
        for %i acc "parallel loop" {
          acc "atomic update" {
            %A[0] =
          }
          %B[%i] =
        }
        """)


@pytest.mark.parametrize(
    ("directive", "statement", "printed"),
    [
        ("atomic", "A[1] += 1.0", "atomic update"),
        ("atomic read", "v = A[0]", "atomic read"),
        ("atomic write", "A[1] = 2.0 * i", "atomic write"),
    ],
)
def test_atomic_applies_to_the_next_statement_only(
    tmp_path: Path, directive: str, statement: str, printed: str
) -> None:
    ir = run_both(tmp_path, f"""
        def kernel(A, n):
            v = 0.0
            for i in range(n):
                #pragma acc {directive}
                {statement}
                A[2] = v
        """, vec(), 5)
    target = statement.split(" ")[0].replace("A[", "%A[").replace("v", "%v")
    assert ir == shape(f"""
        %v =
        for %i {{
          acc "{printed}" {{
            {target} =
          }}
          %A[2] =
        }}
        """)


def test_atomic_capture_block(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, B, n):
            for i in range(n):
                #pragma acc atomic capture
                v = A[0]
                A[0] += 1.0
                #pragma acc end atomic
                B[i] = v
        """, vec(), vec(), 5)
    assert ir == shape("""
        for %i {
          acc "atomic capture" {
            %v =
            %A[0] =
          }
          %B[%i] =
        }
        """)


# ------------------------------------------------------------------------------ standalone


def test_standalone_directives(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc enter data copyin(A)
            #pragma acc parallel loop present(A) async(1)
            for i in range(n):
                #pragma acc cache(A[i:1])
                A[i] = A[i] + 1.0
            #pragma acc wait(1)
            #pragma acc update host(A)
            #pragma acc wait
            #pragma acc exit data delete(A)
        """, vec(), 5)
    assert ir == shape("""
        acc "enter data copyin(A)"
        for %i acc "parallel loop present(A) async(1)" {
          acc "cache(A[i:1])"
          %A[%i] =
        }
        acc "wait(1)"
        acc "update host(A)"
        acc "wait"
        acc "exit data delete(A)"
        """)


def test_standalone_directive_as_the_last_line_of_the_function(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            for i in range(n):
                A[i] = 1.0
            #pragma acc update host(A)
        """, vec(), 5)
    assert ir == shape("""
        for %i {
          %A[%i] =
        }
        acc "update host(A)"
        """)


def test_directive_after_the_last_statement_of_a_loop_body(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(B, n):
            for j in range(n):
                for i in range(n):
                    B[j, i] = 1.0
                    #pragma acc update host(B)
                B[j, 0] = 2.0
                #pragma acc wait
            B[0, 0] = 3.0
        """, mat(), 4)
    assert ir == shape("""
        for %j {
          for %i {
            %B[%j, %i] =
            acc "update host(B)"
          }
          %B[%j, 0] =
          acc "wait"
        }
        %B[0, 0] =
        """)


def test_directive_after_a_loop_at_the_loops_indentation(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            while n > 0:
                n -= 1
                for i in range(n):
                    A[i] += 1.0
                #pragma acc update host(A)
            #pragma acc wait
        """, vec(), 4)
    assert ir == shape("""
        while {
          %n =
          for %i {
            %A[%i] =
          }
          acc "update host(A)"
        }
        acc "wait"
        """)


def test_directive_at_the_end_of_a_loop_body_followed_by_blank_lines(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            for i in range(n):
                A[i] = 2.0

                #pragma acc update host(A)


            A[0] = 1.0
        """, vec(), 5)
    assert ir == shape("""
        for %i {
          %A[%i] =
          acc "update host(A)"
        }
        %A[0] =
        """)


def test_region_spanning_an_if_with_directives_in_its_branches(tmp_path: Path) -> None:
    source = """
        def kernel(A, n):
            #pragma acc data copy(A)
            if n > 2:
                #pragma acc atomic update
                A[0] += 1.0
            else:
        #pragma acc parallel loop
                for i in range(n):
                    A[i] = 2.0
            #pragma acc end data
            A[1] = 3.0
        """
    expected = shape("""
        acc "data copy(A)" {
          if {
            acc "atomic update" {
              %A[0] =
            }
          } else {
            for %i acc "parallel loop" {
              %A[%i] =
            }
          }
        }
        %A[1] =
        """)
    assert run_both(tmp_path, source, vec(), 5) == expected
    assert run_both(tmp_path, source, vec(), 1) == expected


def test_atomic_capture_closed_at_column_0(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, B, n):
            for i in range(n):
                #pragma acc atomic capture
                A[0] += 1.0
                v = A[0]
        #pragma acc end atomic
                B[i] = v
        """, vec(), vec(), 5)
    assert ir == shape("""
        for %i {
          acc "atomic capture" {
            %A[0] =
            %v =
          }
          %B[%i] =
        }
        """)


def test_region_in_a_while_body(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            k = 0
            while k < n:
                #pragma acc kernels
                A[k] = 1.0 * k
                k += 1
                #pragma acc end kernels
            return k
        """, vec(), 5)
    assert ir == shape("""
        %k =
        while {
          acc "kernels" {
            %A[%k] =
            %k =
          }
        }
        return %k
        """)


# ------------------------------------------------------------------------------ misplaced


def test_end_at_column_0_on_the_last_line_of_the_function(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            #pragma acc data copy(A)
            A[0] = 1.0
            A[1] = 2.0
        #pragma acc end data
        """, vec(), 5)
    assert ir == shape("""
        acc "data copy(A)" {
          %A[0] =
          %A[1] =
        }
        """)


def test_standalone_at_column_0_on_the_last_line_of_the_function(tmp_path: Path) -> None:
    ir = run_both(tmp_path, """
        def kernel(A, n):
            for i in range(n):
                A[i] = 1.0
        #pragma acc update host(A)
        """, vec(), 5)
    assert ir == shape("""
        for %i {
          %A[%i] =
        }
        acc "update host(A)"
        """)


NO_MATCH = "'end {0}' has no matching '{0}' directive in its block"
END_COMBINED = ("'end parallel loop' must directly follow the loop of a 'parallel loop' "
                "directive (once)")


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        pytest.param("""
            def kernel(A, n):
                #pragma acc data copy(A)
                for i in range(n):
                    A[i] = 1.0
                    #pragma acc end data
                A[0] = 2.0
            """, NO_MATCH.format('data'), 5, id="end-inside-a-nested-block"),
        pytest.param("""
            def kernel(A, n):
                #pragma acc parallel loop
                for i in range(n):
                    A[i] = 1.0
                #pragma acc end parallel loop
                #pragma acc end parallel loop
            """, END_COMBINED, 6, id="end-combined-twice"),
        pytest.param("""
            def kernel(A, n):
                #pragma acc atomic update
                #pragma acc end atomic
                A[0] += 1.0
            """, "'atomic' region is empty", 2, id="empty-atomic"),
        pytest.param("""
            def kernel(A, n):
                #pragma acc loop
                while n > 0:
                    n -= 1
            """, "'loop' directive must be followed by a for loop", 2, id="loop-directive-above-while"),
        pytest.param("""
            def kernel(A, n):
                for i in range(n):
                    #pragma acc parallel
                    A[i] = 1.0
                #pragma acc end parallel
            """, NO_MATCH.format('parallel'), 5, id="end-in-an-outer-block"),
    ],
)
def test_misplaced_directive_is_rejected(tmp_path: Path, source: str, message: str,
                                         line: int) -> None:
    """The error is raised at the offending directive (`line` of `source`)."""
    fn, path = load(tmp_path, source)
    with pytest.raises(DirectiveSyntaxError) as info:
        accir.compile(fn)(vec(), 5)
    err = info.value
    assert err.message == message
    assert err.loc is not None and err.loc.file == path
    assert err.loc.line == PREAMBLE.count("\n") + line
    assert "#pragma acc" in Path(path).read_text().splitlines()[err.loc.line - 1]


def test_region_after_an_elif_chain(tmp_path: Path) -> None:
    """A region opened after an if/elif/else chain belongs to the block holding the chain."""
    source = (
        "def kernel(A, n):\n"
        "    if n > 2:\n"
        "        A[0] = 1.0\n"
        "    elif n > 1:\n"
        "        A[0] = 2.0\n"
        "    else:\n"
        "        A[0] = 3.0\n"
        "    #pragma acc data copy(A)\n"
        "    #pragma acc parallel loop\n"
        "    for i in range(n):\n"
        "        A[i] += 1.0\n"
        "    #pragma acc end data\n"
        "    A[0] += 1.0\n"
    )
    path = tmp_path / "elif_region.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("elif_region", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    f = accir.compile(module.kernel)
    a, ref = np.zeros(4), np.zeros(4)
    f(a, 3)
    module.kernel(ref, 3)
    assert np.array_equal(a, ref)
    assert 'acc "data copy(A)" {' in f.inspect_ir()
