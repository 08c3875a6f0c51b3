//! Evidence about a function, as typed values: what was run (columns: the docstring's examples,
//! generated tests, differential inputs), by what (rows: the user's function and each candidate
//! solution a model proposed), and what happened (cells: sandbox [`Outcome`]s). Plain data: the
//! engine fills it, the judge reads it, the store records it. Nothing here runs or decides.
//!
//! `inputs` proposes differential inputs (mutations of the examples' and tests' arguments, inputs
//! from type hints) and smaller ones for shrinking; it reads and prints Python literals, never
//! evaluates them.

pub mod inputs;
mod outcome;

use crate::syntax::SyntaxIssue;
pub use inputs::Args;
pub use outcome::{Class, ExceptionInfo, Exercise, Outcome, Ran, Shown, TestOutcome, TestResult};

/// A row of the execution matrix: the code that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Row {
    /// The user's own function.
    User,
    /// The candidate solution with this index in [`Proposals::candidates`].
    Candidate(usize),
}

/// A column of the execution matrix: what the code ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// A candidate's own definition (it loads, or it does not).
    Definition,
    /// The example with this index in [`FunctionEvidence::examples`].
    Example(usize),
    /// The generated test with this index in [`Proposals::tests`].
    Test(usize),
    /// The differential input with this index in [`FunctionEvidence::inputs`].
    Input(usize),
}

/// One row's cells, by column. `None`: not run (the run stopped first, or it was not asked).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cells {
    pub definition: Option<Outcome>,
    pub examples: Vec<Option<Outcome>>,
    pub tests: Vec<Option<Outcome>>,
    pub inputs: Vec<Option<Outcome>>,
}

impl Cells {
    /// Empty cells for a matrix of this shape.
    pub fn new(examples: usize, tests: usize, inputs: usize) -> Cells {
        Cells { definition: None, examples: vec![None; examples], tests: vec![None; tests], inputs: vec![None; inputs] }
    }

    pub fn get(&self, column: Column) -> Option<&Outcome> {
        match column {
            Column::Definition => self.definition.as_ref(),
            Column::Example(i) => self.examples.get(i)?.as_ref(),
            Column::Test(i) => self.tests.get(i)?.as_ref(),
            Column::Input(i) => self.inputs.get(i)?.as_ref(),
        }
    }

    /// Sets a cell; a column outside the shape is ignored.
    pub fn set(&mut self, column: Column, outcome: Outcome) {
        let slot = match column {
            Column::Definition => Some(&mut self.definition),
            Column::Example(i) => self.examples.get_mut(i),
            Column::Test(i) => self.tests.get_mut(i),
            Column::Input(i) => self.inputs.get_mut(i),
        };
        if let Some(slot) = slot {
            *slot = Some(outcome);
        }
    }

    /// Every cell that ran.
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.definition.iter().chain(self.examples.iter().chain(&self.tests).chain(&self.inputs).flatten())
    }
}

/// What a model proposed for one function (PLUM's samples, CodeT's tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proposals {
    /// The model's name, as the JSON's `evidence.model` shows it.
    pub model: String,
    /// Generated unit tests, each an `assert` statement.
    pub tests: Vec<String>,
    /// Candidate solutions, each a whole function definition.
    pub candidates: Vec<String>,
    /// The model's P(True) for the user's function.
    pub p_true: Option<f64>,
}

/// One round of shrinking: smaller inputs, run on the user's function and on the consensus
/// members the judge named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShrinkRound {
    pub inputs: Vec<Args>,
    /// The candidates (indices into [`Proposals::candidates`]) that ran them.
    pub members: Vec<usize>,
    /// Per input: the user's function.
    pub user: Vec<Option<Outcome>>,
    /// Per member (in `members` order), per input.
    pub candidates: Vec<Vec<Option<Outcome>>>,
}

/// Everything observed about one function. The engine fills it; nothing else writes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionEvidence {
    /// Syntax errors inside the function (tree-sitter's, and Python's own compiler's).
    pub syntax_issues: Vec<SyntaxIssue>,
    /// The examples that ran: indices into the function's examples (`+SKIP` ones are left out).
    pub examples: Vec<usize>,
    /// What the model proposed, when it was asked.
    pub proposals: Option<Proposals>,
    /// Differential inputs (only with proposals).
    pub inputs: Vec<Args>,
    /// The user's function: examples, tests, inputs.
    pub user: Cells,
    /// One row per candidate, in [`Proposals::candidates`] order.
    pub candidates: Vec<Cells>,
    /// Shrinking rounds, in order.
    pub shrinks: Vec<ShrinkRound>,
    /// The user's own tests that are this function (a test function's runs: one per parameter set).
    pub user_tests: Vec<TestResult>,
}

impl FunctionEvidence {
    /// Evidence with the shape of these columns and rows, every cell empty.
    pub fn new(examples: Vec<usize>, proposals: Option<Proposals>, inputs: Vec<Args>) -> FunctionEvidence {
        let tests = proposals.as_ref().map_or(0, |p| p.tests.len());
        let rows = proposals.as_ref().map_or(0, |p| p.candidates.len());
        let cells = Cells::new(examples.len(), tests, inputs.len());
        FunctionEvidence {
            syntax_issues: Vec::new(),
            user: cells.clone(),
            candidates: vec![cells; rows],
            examples,
            proposals,
            inputs,
            shrinks: Vec::new(),
            user_tests: Vec::new(),
        }
    }

    pub fn row(&self, row: Row) -> Option<&Cells> {
        match row {
            Row::User => Some(&self.user),
            Row::Candidate(i) => self.candidates.get(i),
        }
    }

    pub fn cell(&self, row: Row, column: Column) -> Option<&Outcome> {
        self.row(row)?.get(column)
    }

    /// Sets a cell; a row or column outside the shape is ignored.
    pub fn set(&mut self, row: Row, column: Column, outcome: Outcome) {
        let cells = match row {
            Row::User => Some(&mut self.user),
            Row::Candidate(i) => self.candidates.get_mut(i),
        };
        if let Some(cells) = cells {
            cells.set(column, outcome);
        }
    }

    /// The generated tests (none without proposals).
    pub fn tests(&self) -> &[String] {
        self.proposals.as_ref().map_or(&[], |p| p.tests.as_slice())
    }

    /// Every cell that ran, shrinking included.
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        let shrinks = self.shrinks.iter().flat_map(|r| r.user.iter().chain(r.candidates.iter().flatten()).flatten());
        self.user.outcomes().chain(self.candidates.iter().flat_map(Cells::outcomes)).chain(shrinks)
    }

    /// Some cell was cancelled or could not run: the evidence is incomplete.
    pub fn incomplete(&self) -> bool {
        self.outcomes().any(Outcome::incomplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_addressed_by_name_and_shape_bounds_writes() {
        let proposals = Proposals {
            tests: vec!["assert f(1) == 1".into()],
            candidates: vec!["def f(x): return x".into()],
            ..Proposals::default()
        };
        let mut e = FunctionEvidence::new(vec![0, 2], Some(proposals), Vec::new());
        e.set(Row::Candidate(0), Column::Definition, Outcome::Cancelled);
        e.set(Row::User, Column::Example(1), Outcome::Timeout { after_ms: 5 });
        // Outside the shape: ignored, never a panic.
        e.set(Row::Candidate(3), Column::Test(0), Outcome::Cancelled);
        e.set(Row::User, Column::Input(7), Outcome::Cancelled);
        assert_eq!(e.cell(Row::User, Column::Example(1)), Some(&Outcome::Timeout { after_ms: 5 }));
        assert_eq!(e.cell(Row::User, Column::Example(0)), None);
        assert_eq!(e.candidates[0].get(Column::Definition), Some(&Outcome::Cancelled));
        assert_eq!(e.outcomes().count(), 2);
        assert!(e.incomplete());
    }
}
