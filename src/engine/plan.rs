//! How evidence becomes sandbox runs and outcomes come back as evidence. Every case of a run is
//! tagged with the function, row and column it fills when it is added, so reading a report back
//! is a lookup, never arithmetic on positions.

use crate::evidence::inputs::{self, Args};
use crate::evidence::{Column, FunctionEvidence, Row, ShrinkRound, TestResult};
use crate::sandbox::{Case, CaseKind, Chunk, Group, Program, Report};
use crate::syntax::{self, Example, Function};

/// Differential inputs per function.
const MAX_INPUTS: usize = 40;

/// Where a case's outcome goes: `(function index, row, column)`.
type Target = (usize, Row, Column);

/// A program, and for each case of each group the cell its outcome fills.
pub(super) struct Run {
    pub(super) program: Program,
    targets: Vec<Vec<Target>>,
}

impl Run {
    pub(super) fn new(program: Program) -> Run {
        Run { program, targets: Vec::new() }
    }

    fn push(&mut self, cases: Vec<(Case, Target)>) {
        self.push_group(cases, false);
    }

    /// A group whose other cases are not run once one times out (see `Group::stop_on_timeout`).
    fn push_group(&mut self, cases: Vec<(Case, Target)>, stop_on_timeout: bool) {
        let (cases, targets) = cases.into_iter().unzip();
        self.program.groups.push(Group { cases, stop_on_timeout });
        self.targets.push(targets);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.program.groups.is_empty()
    }

    /// Puts every outcome of `report` into its cell. `evidence` is indexed by function.
    pub(super) fn fill(&self, report: Report, evidence: &mut [Option<FunctionEvidence>]) {
        for (outcomes, targets) in report.outcomes.into_iter().zip(&self.targets) {
            for (outcome, &(function, row, column)) in outcomes.into_iter().zip(targets) {
                if let Some(Some(e)) = evidence.get_mut(function) {
                    e.set(row, column, outcome);
                }
            }
        }
    }
}

/// A docstring example as doctest runs it, with the project's option flags and its own.
fn example_case(example: &Example, flags: &[String]) -> Case {
    let mut options = flags.to_vec();
    options.extend(example.options.iter().filter(|o| !flags.contains(o)).cloned());
    Case {
        kind: CaseKind::Example { want: example.want.clone(), options },
        source: example.source.clone(),
        line: example.line,
    }
}

/// A call whose displayed value is what counts (an example with no expectation).
fn call_case(call: String, line: u32) -> Case {
    Case { kind: CaseKind::Example { want: String::new(), options: Vec::new() }, source: format!("{call}\n"), line }
}

/// Statements that pass when they raise nothing.
fn assert_case(source: &str, line: u32) -> Case {
    Case { kind: CaseKind::Assert, source: format!("{}\n", source.trim_end()), line }
}

/// The program every run of a file starts from: its top-level statements, no groups yet.
pub(super) fn base_program(
    path: &str,
    text: &str,
    parsed: &syntax::ParsedFile,
    module_name: &str,
    origin: &str,
) -> Program {
    let chunks = parsed
        .top_level
        .iter()
        .filter(|t| !t.has_error)
        .map(|t| Chunk { line: t.line, text: text[t.range.start..t.range.end].to_string() })
        .collect();
    Program {
        filename: path.to_string(),
        origin: origin.to_string(),
        source: text.to_string(),
        module_name: module_name.to_string(),
        chunks,
        groups: Vec::new(),
        discover: None,
        pytest: None,
        conftests: Vec::new(),
    }
}

/// The differential inputs for a function: arguments of its examples' and tests' calls and their
/// mutations, or inputs made from type hints when there are none.
pub(super) fn differential_inputs(function: &Function, tests: &[String]) -> Vec<Args> {
    let mut seeds: Vec<Args> = Vec::new();
    let sources = function.examples.iter().map(|e| e.source.as_str()).chain(tests.iter().map(String::as_str));
    for source in sources {
        for a in inputs::calls_in(source, &function.name) {
            if !seeds.contains(&a) {
                seeds.push(a);
            }
        }
    }
    if seeds.is_empty() {
        seeds = inputs::from_hints(&function.signature);
    }
    inputs::mutate(&seeds, MAX_INPUTS)
}

/// Adds a function's evidence to the runs: its examples (one group sharing a namespace, as in
/// doctest) to `examples`; with proposals, to `model` the user's function on the generated tests
/// and on the inputs, then one group per candidate (its definition, the tests, the examples, the
/// inputs), which runs under the model's shorter deadline.
pub(super) fn add_function(
    index: usize,
    function: &Function,
    e: &FunctionEvidence,
    flags: &[String],
    examples: &mut Run,
    model: &mut Run,
) {
    let user = |column| (index, Row::User, column);
    examples.push(
        e.examples
            .iter()
            .enumerate()
            .map(|(k, &x)| (example_case(&function.examples[x], flags), user(Column::Example(k))))
            .collect(),
    );
    let Some(p) = &e.proposals else { return };
    let line = function.examples.first().map(|e| e.line).unwrap_or(0);
    let tests: Vec<(Case, Column)> =
        p.tests.iter().enumerate().map(|(t, s)| (assert_case(s, line), Column::Test(t))).collect();
    let calls: Vec<(Case, Column)> =
        e.inputs.iter().enumerate().map(|(i, a)| (call_case(a.call(&function.name), line), Column::Input(i))).collect();
    model.push(tests.iter().map(|(c, col)| (c.clone(), user(*col))).collect());
    model.push(calls.iter().map(|(c, col)| (c.clone(), user(*col))).collect());
    for (k, candidate) in p.candidates.iter().enumerate() {
        let row = Row::Candidate(k);
        let mut cases = vec![(assert_case(candidate, 0), (index, row, Column::Definition))];
        cases.extend(tests.iter().map(|(c, col)| (c.clone(), (index, row, *col))));
        cases.extend(
            e.examples
                .iter()
                .enumerate()
                .map(|(j, &x)| (example_case(&function.examples[x], flags), (index, row, Column::Example(j)))),
        );
        cases.extend(calls.iter().map(|(c, col)| (c.clone(), (index, row, *col))));
        // A candidate that loops costs one deadline: its other cases are not run.
        model.push_group(cases, true);
    }
}

/// The user's tests as pytest ran them, onto the test functions they are (`TestClass.test_x[1-2]`
/// is the method `TestClass.test_x`).
pub(super) fn fill_tests(functions: &[Function], tests: Vec<TestResult>, evidence: &mut [Option<FunctionEvidence>]) {
    for test in tests {
        let qualified = test.name.split('[').next().unwrap_or(&test.name);
        let Some(k) = functions.iter().position(|f| f.kind == syntax::Kind::Function && f.qualified_name == qualified)
        else {
            continue;
        };
        if let Some(Some(e)) = evidence.get_mut(k) {
            e.user_tests.push(test);
        }
    }
}

/// The groups of one shrinking round: the user's function on the smaller inputs, then each
/// member's definition followed by the same calls.
pub(super) fn shrink_groups(function: &Function, candidates: &[String], round: &ShrinkRound) -> Vec<Group> {
    let calls: Vec<Case> = round.inputs.iter().map(|a| call_case(a.call(&function.name), 0)).collect();
    let mut groups = vec![Group { cases: calls.clone(), stop_on_timeout: false }];
    for &m in &round.members {
        let mut cases = vec![assert_case(&candidates[m], 0)];
        cases.extend(calls.iter().cloned());
        groups.push(Group { cases, stop_on_timeout: true });
    }
    groups
}

/// Reads a shrinking round's report into the round (the definitions' own outcomes are dropped).
pub(super) fn fill_shrink(round: &mut ShrinkRound, report: Report) {
    let mut groups = report.outcomes.into_iter();
    let n = round.inputs.len();
    let take = |outcomes: Option<Vec<_>>, skip: usize| {
        let mut cells: Vec<_> = outcomes.unwrap_or_default().into_iter().skip(skip).map(Some).collect();
        cells.resize(n, None);
        cells
    };
    round.user = take(groups.next(), 0);
    round.candidates = round.members.iter().map(|_| take(groups.next(), 1)).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Outcome, Proposals};

    /// Every case's outcome lands in the cell it was added for, whatever the group layout.
    #[test]
    fn outcomes_come_back_to_their_cells() {
        let text = "def f(x):\n    \"\"\"\n    >>> f(1)\n    1\n    >>> f(2)  # doctest: +SKIP\n    2\n    >>> f(3)\n    3\n    \"\"\"\n    return x\n";
        let parsed = syntax::parse(text);
        let function = &parsed.functions[0];
        let proposals = Proposals {
            model: "m".into(),
            tests: vec!["assert f(4) == 4".into(), "assert f(5) == 5".into()],
            candidates: vec!["def f(x):\n    return x\n".into(), "def f(x):\n    return 0\n".into()],
            p_true: None,
        };
        let inputs = differential_inputs(function, &proposals.tests);
        assert!(inputs.len() > 2, "{inputs:?}");
        let e = FunctionEvidence::new(vec![0, 2], Some(proposals), inputs.clone());
        let base = base_program("m.py", text, &parsed, "m", "m.py");
        let (mut examples, mut model) = (Run::new(base.clone()), Run::new(base));
        // Function 1 of the file; slot 0 stays empty.
        add_function(1, function, &e, &[], &mut examples, &mut model);
        assert_eq!(examples.program.groups.len(), 1);
        // The user's tests, the user's inputs, one group per candidate.
        assert_eq!(model.program.groups.len(), 4);
        assert_eq!(model.program.groups[2].cases.len(), 1 + 2 + 2 + inputs.len());
        // A report whose every outcome names its group and case.
        let report = |run: &Run, base: u64| Report {
            setup: Vec::new(),
            outcomes: run
                .program
                .groups
                .iter()
                .enumerate()
                .map(|(g, group)| {
                    (0..group.cases.len())
                        .map(|j| Outcome::Timeout { after_ms: base + 100 * g as u64 + j as u64 })
                        .collect()
                })
                .collect(),
            instances: 1,
            ..Report::default()
        };
        let mut evidence = vec![None, Some(e)];
        examples.fill(report(&examples, 0), &mut evidence);
        model.fill(report(&model, 10_000), &mut evidence);
        let e = evidence[1].as_ref().unwrap();
        let ms = |o: Option<&Outcome>| match o {
            Some(Outcome::Timeout { after_ms }) => *after_ms,
            other => panic!("{other:?}"),
        };
        assert_eq!(ms(e.cell(Row::User, Column::Example(1))), 1);
        assert_eq!(ms(e.cell(Row::User, Column::Test(1))), 10_001);
        assert_eq!(ms(e.cell(Row::User, Column::Input(2))), 10_102);
        assert_eq!(ms(e.cell(Row::Candidate(1), Column::Definition)), 10_300);
        assert_eq!(ms(e.cell(Row::Candidate(1), Column::Test(0))), 10_301);
        assert_eq!(ms(e.cell(Row::Candidate(1), Column::Example(1))), 10_304);
        assert_eq!(ms(e.cell(Row::Candidate(0), Column::Input(0))), 10_205);
        assert!(e.user.definition.is_none());

        // A shrinking round: the user's calls, then each member's definition and calls.
        let mut round = ShrinkRound { inputs: inputs[..2].to_vec(), members: vec![1], ..ShrinkRound::default() };
        let groups = shrink_groups(function, &e.proposals.as_ref().unwrap().candidates, &round);
        let mut shrink = Run::new(Program { groups, ..examples.program.clone() });
        shrink.targets = Vec::new();
        fill_shrink(&mut round, report(&shrink, 0));
        assert_eq!(ms(round.user[1].as_ref()), 1);
        assert_eq!(ms(round.candidates[0][0].as_ref()), 101, "the definition's own outcome is dropped");
    }
}
