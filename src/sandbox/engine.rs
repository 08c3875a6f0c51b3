//! The wasmtime side: engine configuration, the epoch ticker, one store per run, events from the
//! guest, and restarts after a trap.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Value, json};
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store,
    StoreContextMut, Trap, UpdateDeadline,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::{
    Cancel, Case, CaseKind, FoundDocstring, Host, Import, Limits, Module, Outcome, Program, Ran, Report, SetupFailure,
    TestOutcome, TestResult,
};
use crate::evidence::ExceptionInfo;

/// How often the ticker advances the engine's epoch: the deadline's resolution.
const TICK: Duration = Duration::from_millis(5);
/// The largest memory cap a run may ask for; also the pool's per-memory slot size.
const MAX_MEMORY: usize = 1 << 30;
/// Wasm stack for the guest (it runs on a fiber stack of a little more).
const WASM_STACK: usize = 4 << 20;
/// Instances alive at once across all runs of one engine.
const CONCURRENT_RUNS: u32 = 16;
/// Instance slots kept warm (their touched pages resident) while unused: enough for the runs of
/// one editing session; slots beyond it give their memory back when a burst of runs is over.
const WARM_SLOTS: u32 = 2;
/// Bytes of each linear memory kept resident between runs (see `engine_config`).
const KEEP_RESIDENT: usize = 64 << 20;
/// How often the driver looks at the cancel flag while the guest is blocked in a host call.
const CANCEL_POLL: Duration = Duration::from_millis(20);
/// What a run may write to its scratch directory, all files together.
pub const SCRATCH_BYTES: u64 = 64 << 20;
/// Epoch ticks between two measurements of the scratch directory.
const SCRATCH_CHECK_TICKS: u32 = 20;
/// Where the scratch directory appears in the guest (its working directory and `TMPDIR`).
const SCRATCH_GUEST: &str = "/tmp";
/// Imports one run may ask the host for, and the source text it may be given in all.
const MAX_IMPORTS: usize = 4_000;
const MAX_IMPORT_BYTES: usize = 64 << 20;

/// The engine configuration; part of the precompiled cache key.
pub(super) fn engine_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(WASM_STACK);
    // Runs are synchronous; wasmtime still requires the async stack to cover the wasm stack.
    config.async_stack_size(WASM_STACK + (1 << 20));
    config.memory_init_cow(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(CONCURRENT_RUNS)
        .total_core_instances(CONCURRENT_RUNS * 32)
        .total_memories(CONCURRENT_RUNS * 4)
        .total_tables(CONCURRENT_RUNS * 8)
        .max_core_instances_per_component(32)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_memory_size(4 << 30)
        .table_elements(100_000)
        .total_stacks(CONCURRENT_RUNS)
        // Reset only the pages a run dirtied, by copying them back from the snapshot, and keep
        // them resident: the next run then takes no page faults on them (Linux 6.7+ PAGEMAP_SCAN;
        // elsewhere the low `KEEP_RESIDENT` bytes are reset with memset).
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(1 << 20)
        .async_stack_keep_resident(WASM_STACK + (1 << 20))
        .max_unused_warm_slots(WARM_SLOTS);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Store data for one run.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
    /// Shared with the driver, which must read it even after dropping a guest blocked in a host
    /// call (a `time.sleep`).
    progress: Arc<Mutex<Progress>>,
    cancel: Cancel,
    host: Host,
    imports: Arc<Mutex<Imports>>,
    /// The sandbox's compiled-code cache: project modules are served with their code.
    code: Arc<Mutex<HashMap<String, String>>>,
    /// The run's scratch directory on the host, and ticks until it is measured again.
    scratch: Option<PathBuf>,
    scratch_ticks: u32,
}

/// The modules a run asked the host for (across restarts), and the text given so far.
#[derive(Default)]
struct Imports {
    asked: Vec<Import>,
    bytes: usize,
}

/// What the guest reported so far, and the deadline of the step in progress.
struct Progress {
    events: Vec<Event>,
    /// The step that began last: the one to blame for a trap.
    current: Option<Step>,
    case_budget: Duration,
    case_started: Instant,
    case_deadline: Instant,
    run_deadline: Instant,
    stop: Option<Stop>,
    bad_events: u32,
}

impl Progress {
    fn deadline(&self) -> Instant {
        self.case_deadline.min(self.run_deadline)
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Timeout,
    Cancelled,
    /// The scratch directory outgrew [`SCRATCH_BYTES`].
    Scratch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Importing the module's parent packages.
    Imports,
    /// Finding docstrings at run time (`Program::discover`).
    Discover,
    /// The `index`-th test of a pytest run.
    Test(usize),
    Setup(usize),
    Case(usize, usize),
}

/// One event from the guest (`host.report`).
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    SetupError {
        index: usize,
        exception: ExceptionInfo,
    },
    Case {
        group: usize,
        case: usize,
        outcome: Ran,
        /// The case's compiled code (marshal, base64), for the host's cache.
        #[serde(default)]
        code: Option<String>,
    },
    /// A top-level statement's compiled code, for the host's cache.
    ChunkCode {
        index: usize,
        code: String,
    },
    /// A served module's compiled code (its `key` from the host's answer), for the host's cache.
    ModuleCode {
        key: String,
        code: String,
    },
    /// Docstrings found at run time (`Program::discover`).
    Found {
        items: Vec<FoundDocstring>,
    },
    /// The tests pytest collected, in the order it runs them.
    Collected {
        nodeids: Vec<String>,
    },
    Test {
        index: usize,
        #[serde(flatten)]
        result: TestResult,
    },
    TestsDone {
        exit: Option<i32>,
        #[serde(default)]
        output: String,
        #[serde(default)]
        internal: Option<String>,
    },
    Done,
}

/// Caps the instance's linear memory, all memories together, and remembers a refusal.
struct MemoryCap {
    cap: usize,
    used: usize,
    refused: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        if self.used.saturating_add(grow) > self.cap {
            self.refused = true;
            return Ok(false);
        }
        self.used += grow;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Advances the epoch while any run is in flight; parks otherwise.
struct Ticker {
    active: Arc<AtomicUsize>,
    thread: thread::Thread,
}

impl Ticker {
    fn start(engine: &Engine) -> Ticker {
        let active = Arc::new(AtomicUsize::new(0));
        let weak = engine.weak();
        let counter = Arc::clone(&active);
        let handle = thread::Builder::new()
            .name("plumb-epoch".into())
            .spawn(move || {
                loop {
                    if counter.load(Ordering::SeqCst) == 0 {
                        thread::park_timeout(Duration::from_secs(1));
                    } else {
                        thread::sleep(TICK);
                    }
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => return,
                    }
                }
            })
            .expect("spawning the epoch ticker thread");
        Ticker { active, thread: handle.thread().clone() }
    }

    fn enter(&self) -> TickerGuard<'_> {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
        TickerGuard(self)
    }
}

struct TickerGuard<'a>(&'a Ticker);

impl Drop for TickerGuard<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The sandbox: one engine, one pre-linked component, any number of concurrent runs.
pub struct Sandbox {
    engine: Engine,
    pre: InstancePre<State>,
    ticker: Ticker,
    /// Compiled code of cases and top-level statements seen before (`runner/app.py`, `code_for`):
    /// compile() costs more than running a short test in WASI CPython.
    code: Arc<Mutex<HashMap<String, String>>>,
    gate: Gate,
}

/// Memory the sandbox's runs may reserve at once, unless set otherwise.
pub const DEFAULT_MEMORY_BUDGET: usize = 1 << 30;

/// Admission to the sandbox: at most [`CONCURRENT_RUNS`] runs at once (the size of the instance
/// pool), and their memory limits together within a budget. A run waits for its turn; it never
/// fails for want of a slot. A run whose limit alone exceeds the budget runs when nothing else does.
struct Gate {
    state: Mutex<GateState>,
    freed: Condvar,
}

struct GateState {
    runs: u32,
    memory: usize,
    budget: usize,
}

/// A run's place in the sandbox; given back when dropped.
struct Permit<'a> {
    gate: &'a Gate,
    memory: usize,
}

impl Gate {
    fn new(budget: usize) -> Gate {
        Gate { state: Mutex::new(GateState { runs: 0, memory: 0, budget }), freed: Condvar::new() }
    }

    /// Waits for room; `None` when cancelled while waiting.
    fn admit(&self, memory: usize, cancel: &Cancel) -> Option<Permit<'_>> {
        let mut s = lock(&self.state);
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            if s.runs < CONCURRENT_RUNS && (s.runs == 0 || s.memory + memory <= s.budget) {
                s.runs += 1;
                s.memory += memory;
                return Some(Permit { gate: self, memory });
            }
            s = self.freed.wait_timeout(s, CANCEL_POLL).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = lock(&self.gate.state);
        s.runs -= 1;
        s.memory -= self.memory;
        drop(s);
        self.gate.freed.notify_all();
    }
}

/// Entries in the compiled-code cache before it starts over.
const CODE_CACHE_ENTRIES: usize = 20_000;

/// The compiled-code cache key: everything `compile()` depends on.
fn code_key(mode: &str, filename: &str, line: u32, source: &str) -> String {
    format!("{mode}\0{filename}\0{line}\0{source}")
}

fn case_key(filename: &str, case: &Case) -> String {
    let mode = match case.kind {
        CaseKind::Example { .. } => "single",
        CaseKind::Assert => "exec",
    };
    code_key(mode, filename, case.line, &case.source)
}

/// What one instance did before it returned or trapped.
struct Attempt {
    events: Vec<Event>,
    current: Option<Step>,
    error: Option<Outcome>,
}

impl Sandbox {
    /// Loads a precompiled component (see [`super::runtime`]).
    pub fn from_precompiled(engine: Engine, path: &Path) -> Result<Sandbox> {
        // SAFETY: the file is written only by `runtime::ensure` from `Engine::precompile_component`
        // of this same engine configuration, under a key that includes wasmtime's version and the
        // engine's compatibility hash; it is never taken from user input.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize_file(&engine, path) }
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading the precompiled sandbox runtime {}", path.display()))?;
        Sandbox::from_component(engine, &component)
    }

    pub fn from_component(engine: Engine, component: &Component) -> Result<Sandbox> {
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        let mut host = linker.instance("plumb:runner/host@0.1.0").map_err(anyhow::Error::from)?;
        host.func_wrap("report", |store: StoreContextMut<'_, State>, (event,): (String,)| {
            on_event(&store.data().progress, &event);
            Ok(())
        })
        .map_err(anyhow::Error::from)?;
        host.func_wrap("begin", |store: StoreContextMut<'_, State>, (group, index): (i32, u32)| {
            let step = match usize::try_from(group) {
                Ok(group) => Step::Case(group, index as usize),
                Err(_) if group == -2 => Step::Imports,
                Err(_) if group == -3 => Step::Discover,
                Err(_) if group == -4 => Step::Test(index as usize),
                Err(_) => Step::Setup(index as usize),
            };
            on_begin(&store.data().progress, step);
            Ok(())
        })
        .map_err(anyhow::Error::from)?;
        host.func_wrap("find-module", |store: StoreContextMut<'_, State>, (name,): (String,)| {
            let s = store.data();
            Ok((find_module(&s.host, &s.imports, &s.code, &name),))
        })
        .map_err(anyhow::Error::from)?;
        let pre = linker.instantiate_pre(component).map_err(anyhow::Error::from)?;
        let ticker = Ticker::start(&engine);
        Ok(Sandbox {
            engine,
            pre,
            ticker,
            code: Arc::new(Mutex::new(HashMap::new())),
            gate: Gate::new(DEFAULT_MEMORY_BUDGET),
        })
    }

    /// Forgets the compiled code of earlier runs (for benchmarks that measure compiling too).
    pub fn forget_compiled(&self) {
        lock(&self.code).clear();
    }

    fn remember_code(&self, key: String, code: String) {
        let mut cache = lock(&self.code);
        if cache.len() >= CODE_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, code);
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The component's imports, for the test that nothing beyond `wasi:*` and the host is linked.
    pub fn imports(&self) -> Vec<String> {
        let ty = self.pre.component().component_type();
        ty.imports(&self.engine).map(|(name, _)| name.to_string()).collect()
    }

    /// Sets how much memory (the sum of the runs' memory limits) the runs in flight may reserve;
    /// runs beyond it wait.
    pub fn set_memory_budget(&self, bytes: usize) {
        let mut state = lock(&self.gate.state);
        if state.budget != bytes {
            state.budget = bytes;
            drop(state);
            // A larger budget may admit runs that wait.
            self.gate.freed.notify_all();
        }
    }

    /// Runs the program with nothing of the host visible but its scratch directory.
    pub fn run(&self, program: &Program, limits: &Limits, cancel: &Cancel) -> Report {
        self.run_with(program, &Host::default(), limits, cancel)
    }

    /// Runs the program: its top-level statements, then every case. Never fails: whatever the
    /// guest does becomes an [`Outcome`]. Waits its turn when the sandbox is full (see [`Gate`]).
    pub fn run_with(&self, program: &Program, host: &Host, limits: &Limits, cancel: &Cancel) -> Report {
        let Some(_permit) = self.gate.admit(limits.memory_bytes.min(MAX_MEMORY), cancel) else {
            return Report {
                outcomes: program.groups.iter().map(|g| vec![Outcome::Cancelled; g.cases.len()]).collect(),
                ..Report::default()
            };
        };
        let imports = Arc::new(Mutex::new(Imports::default()));
        let mut skip_packages = false;
        let _ticking = self.ticker.enter();
        let started = Instant::now();
        let run_deadline = started + limits.run_deadline;
        let mut chunk_skip = vec![false; program.chunks.len()];
        let mut setup: BTreeMap<usize, Outcome> = BTreeMap::new();
        let mut outcomes: Vec<Vec<Option<Outcome>>> =
            program.groups.iter().map(|g| vec![None; g.cases.len()]).collect();
        let mut instances = 0;
        let mut found = Vec::new();
        let mut tests = Tests::default();
        loop {
            instances += 1;
            let mut request = request_json(program, limits, &chunk_skip, skip_packages, &outcomes, &lock(&self.code));
            if let Some(run) = &program.pytest {
                request = tests.request(run, &request);
            }
            // pytest's configuration and collection (importing the test modules and what they
            // import) come before its first test: they have the run's time, as a native run
            // would, not one example's (a large suite under load can take seconds).
            let deadlines = Deadlines { run: run_deadline, opening: program.pytest.as_ref().map(|_| run_deadline) };
            let attempt = self.attempt(&request, host, &imports, limits, deadlines, cancel);
            for event in attempt.events {
                match event {
                    Event::SetupError { index, exception } => {
                        setup.insert(index, Outcome::Ran(Box::new(ran_with(exception))));
                    }
                    Event::ChunkCode { index, code } => {
                        if let Some(c) = program.chunks.get(index) {
                            self.remember_code(code_key("exec", &program.filename, c.line, &c.text), code);
                        }
                    }
                    Event::Case { group, case, outcome, code } => {
                        if let (Some(code), Some(c)) = (code, program.groups.get(group).and_then(|g| g.cases.get(case)))
                        {
                            self.remember_code(case_key(&program.filename, c), code);
                        }
                        if let Some(slot) = outcomes.get_mut(group).and_then(|g| g.get_mut(case)) {
                            *slot = Some(Outcome::Ran(Box::new(outcome)));
                        }
                    }
                    Event::ModuleCode { key, code } if key.starts_with("module:") => self.remember_code(key, code),
                    Event::ModuleCode { .. } => {}
                    Event::Found { items } => found = items,
                    // After a restart pytest collects only what is left: the first list names them all.
                    Event::Collected { nodeids } if tests.collected.is_empty() => tests.collected = nodeids,
                    Event::Collected { .. } => {}
                    Event::Test { index, result } => {
                        tests.results.insert(index, result);
                    }
                    Event::TestsDone { exit, output, internal } => tests.finish(exit, &output, internal),
                    Event::Done => {}
                }
            }
            let Some(error) = attempt.error else { break };
            let stop_all =
                matches!(error, Outcome::Cancelled) || Instant::now() >= run_deadline || attempt.current.is_none();
            match attempt.current {
                // Finding docstrings comes last: what trapped there is simply not found.
                Some(Step::Discover) => break,
                Some(Step::Test(index)) => {
                    tests.stopped(index, &error);
                    if !stop_all {
                        continue;
                    }
                }
                Some(Step::Imports) => skip_packages = true,
                Some(Step::Setup(index)) if index < chunk_skip.len() => {
                    chunk_skip[index] = true;
                    setup.insert(index, error.clone());
                }
                Some(Step::Case(g, c)) => {
                    if let Some(slot) = outcomes.get_mut(g).and_then(|g| g.get_mut(c)) {
                        *slot = Some(error.clone());
                    }
                    let stops = program.groups.get(g).is_some_and(|group| group.stop_on_timeout);
                    if stops && matches!(error, Outcome::Timeout { .. }) {
                        for slot in outcomes.get_mut(g).into_iter().flatten().filter(|s| s.is_none()) {
                            *slot = Some(error.clone());
                        }
                    }
                }
                _ => {}
            }
            if stop_all {
                for slot in outcomes.iter_mut().flatten().filter(|s| s.is_none()) {
                    *slot = Some(error.clone());
                }
                break;
            }
            if outcomes.iter().flatten().all(Option::is_some) {
                break;
            }
        }
        Report {
            setup: setup.into_iter().map(|(chunk, outcome)| SetupFailure { chunk, outcome }).collect(),
            outcomes: outcomes
                .into_iter()
                .map(|g| {
                    g.into_iter()
                        .map(|o| {
                            o.unwrap_or_else(|| Outcome::Crash { detail: "the runner did not report this case".into() })
                        })
                        .collect()
                })
                .collect(),
            instances,
            imports: std::mem::take(&mut lock(&imports).asked),
            found,
            tests_problem: program.pytest.as_ref().and_then(|_| tests.problem()),
            tests: tests.results.into_values().collect(),
        }
    }

    /// One fresh instance. The guest runs on a fiber (async store), so the driver can stop it at
    /// its deadline even while it is blocked in a host call such as `time.sleep`.
    fn attempt(
        &self,
        request: &str,
        host: &Host,
        imports: &Arc<Mutex<Imports>>,
        limits: &Limits,
        deadlines: Deadlines,
        cancel: &Cancel,
    ) -> Attempt {
        let Deadlines { run: run_deadline, opening } = deadlines;
        let now = Instant::now();
        let progress = Arc::new(Mutex::new(Progress {
            events: Vec::new(),
            current: None,
            case_budget: limits.case_deadline,
            case_started: now,
            case_deadline: opening.unwrap_or(now + limits.case_deadline),
            run_deadline,
            stop: None,
            bad_events: 0,
        }));
        // Guest writes to the process's stdout/stderr (os.write(1, ...)) land in capped pipes and are
        // dropped: the runner captures print() itself, per case.
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(MemoryOutputPipe::new(limits.output_chars))
            .stderr(MemoryOutputPipe::new(limits.output_chars))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .env("TMPDIR", SCRATCH_GUEST)
            .env("HOME", SCRATCH_GUEST)
            // Each run has its own current-thread runtime: a file operation may block it. Otherwise
            // every stat, open and read is a round trip through tokio's blocking pool (~0.3 ms
            // each; pytest's start-up makes ~90 of them).
            .allow_blocking_current_thread(true);
        // A private, empty directory per instance: deleted when this function returns.
        let scratch = tempfile::Builder::new().prefix("plumb-scratch-").tempdir().ok();
        if let Some(dir) = &scratch
            && builder.preopened_dir(dir.path(), SCRATCH_GUEST, FsPerms::ReadWrite).is_err()
        {
            return Attempt {
                events: Vec::new(),
                current: None,
                error: Some(Outcome::Unavailable { detail: "could not open the scratch directory".into() }),
            };
        }
        for dir in &host.read_only {
            if let Some(guest) = dir.to_str() {
                // A directory that cannot be opened is simply not visible.
                let _ = builder.preopened_dir(dir, guest, FsPerms::ReadOnly);
            }
        }
        let state = State {
            wasi: builder.build(),
            table: ResourceTable::new(),
            memory: MemoryCap { cap: limits.memory_bytes.min(MAX_MEMORY), used: 0, refused: false },
            progress: Arc::clone(&progress),
            cancel: cancel.clone(),
            host: host.clone(),
            imports: Arc::clone(imports),
            code: Arc::clone(&self.code),
            scratch: scratch.as_ref().map(|d| d.path().to_path_buf()),
            scratch_ticks: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            let s = ctx.data_mut();
            let mut p = lock(&s.progress);
            if s.cancel.is_cancelled() {
                p.stop = Some(Stop::Cancelled);
                return Ok(UpdateDeadline::Interrupt);
            }
            if Instant::now() >= p.deadline() {
                p.stop = Some(Stop::Timeout);
                return Ok(UpdateDeadline::Interrupt);
            }
            drop(p);
            s.scratch_ticks += 1;
            if s.scratch_ticks >= SCRATCH_CHECK_TICKS {
                s.scratch_ticks = 0;
                if s.scratch.as_deref().is_some_and(|d| dir_size(d, SCRATCH_BYTES) > SCRATCH_BYTES) {
                    lock(&s.progress).stop = Some(Stop::Scratch);
                    return Ok(UpdateDeadline::Interrupt);
                }
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
            Ok(rt) => rt,
            Err(e) => {
                return Attempt {
                    events: Vec::new(),
                    current: None,
                    error: Some(Outcome::Crash { detail: format!("could not start the sandbox driver: {e}") }),
                };
            }
        };
        let instantiated = std::cell::Cell::new(false);
        let result = runtime.block_on(async {
            let pre = &self.pre;
            let store = &mut store;
            let instantiated = &instantiated;
            let mut call = Box::pin(async move {
                let instance = pre.instantiate_async(&mut *store).await?;
                instantiated.set(true);
                let run = instance.get_typed_func::<(&str,), (String,)>(&mut *store, "run")?;
                run.call_async(&mut *store, (request,)).await
            });
            loop {
                let wake = lock(&progress).deadline().min(Instant::now() + CANCEL_POLL);
                tokio::select! {
                    result = &mut call => break Some(result),
                    _ = tokio::time::sleep_until(wake.into()) => {
                        let mut p = lock(&progress);
                        if cancel.is_cancelled() {
                            p.stop = Some(Stop::Cancelled);
                            break None;
                        }
                        if Instant::now() >= p.deadline() {
                            p.stop = Some(Stop::Timeout);
                            break None;
                        }
                    }
                }
            }
        });
        let memory_refused = store.data().memory.refused;
        let memory_cap = store.data().memory.cap;
        drop(store);
        let mut p = lock(&progress);
        // Timeouts report the limit that applied, not the (noisy) measured time.
        let elapsed = p.case_budget.min(p.run_deadline.saturating_duration_since(p.case_started));
        let error = match result {
            // The driver dropped the guest at its deadline (or on cancel) inside a host call.
            None => Some(stopped(p.stop, elapsed).unwrap_or(Outcome::Timeout { after_ms: elapsed.as_millis() as u64 })),
            Some(Ok(_)) if p.bad_events > 0 => {
                Some(Outcome::Crash { detail: format!("the runner sent {} malformed events", p.bad_events) })
            }
            Some(Ok(_)) => None,
            // No instance could be made: the host's trouble, not the program's.
            Some(Err(error)) if !instantiated.get() && p.stop.is_none() => {
                Some(Outcome::Unavailable { detail: format!("{error:#}") })
            }
            Some(Err(error)) => Some(classify(&error, p.stop, memory_refused, memory_cap, elapsed)),
        };
        Attempt { events: std::mem::take(&mut p.events), current: p.current, error }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn on_begin(progress: &Mutex<Progress>, step: Step) {
    let mut p = lock(progress);
    p.current = Some(step);
    p.case_started = Instant::now();
    p.case_deadline = p.case_started + p.case_budget;
}

fn on_event(progress: &Mutex<Progress>, text: &str) {
    let mut p = lock(progress);
    match serde_json::from_str::<Event>(text) {
        Ok(event) => p.events.push(event),
        Err(_) => p.bad_events += 1,
    }
}

fn stopped(stop: Option<Stop>, elapsed: Duration) -> Option<Outcome> {
    match stop? {
        Stop::Cancelled => Some(Outcome::Cancelled),
        Stop::Timeout => Some(Outcome::Timeout { after_ms: elapsed.as_millis() as u64 }),
        Stop::Scratch => Some(Outcome::MemoryLimit {
            detail: format!("wrote more than {} MiB to the scratch directory", SCRATCH_BYTES >> 20),
        }),
    }
}

fn classify(
    error: &wasmtime::Error,
    stop: Option<Stop>,
    memory_refused: bool,
    memory_cap: usize,
    elapsed: Duration,
) -> Outcome {
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return Outcome::Exited { code: exit.0 };
    }
    if let Some(outcome) = stopped(stop, elapsed) {
        return outcome;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => Outcome::RecursionLimit { detail: "the wasm call stack was exhausted".into() },
        Some(Trap::Interrupt) => Outcome::Timeout { after_ms: elapsed.as_millis() as u64 },
        _ if memory_refused => {
            Outcome::MemoryLimit { detail: format!("memory cap of {} MiB reached ({error})", memory_cap >> 20) }
        }
        Some(trap) => Outcome::Crash { detail: format!("the interpreter trapped: {trap}") },
        None => Outcome::Crash { detail: format!("{error:#}") },
    }
}

fn ran_with(exception: ExceptionInfo) -> Ran {
    Ran {
        stdout: String::new(),
        value: None,
        exception: Some(exception),
        text_match: None,
        value_equal: None,
        expected: None,
        actual: None,
        duration_us: 0,
    }
}

/// The guest's request: the program, plus which steps to run, replay (to rebuild a group's state
/// after a restart) or skip.
fn request_json(
    program: &Program,
    limits: &Limits,
    chunk_skip: &[bool],
    skip_packages: bool,
    done: &[Vec<Option<Outcome>>],
    code: &HashMap<String, String>,
) -> String {
    let chunks: Vec<Value> = program
        .chunks
        .iter()
        .zip(chunk_skip)
        .filter(|(_, skip)| !**skip)
        .map(|(c, _)| {
            let mut value = json!({"line": c.line, "text": c.text});
            if let Some(compiled) = code.get(&code_key("exec", &program.filename, c.line, &c.text)) {
                value["code"] = json!(compiled);
            }
            value
        })
        .collect();
    // Chunk indices in events must be those of the full list: send the original index too.
    let chunk_index: Vec<usize> = chunk_skip.iter().enumerate().filter(|(_, s)| !**s).map(|(i, _)| i).collect();
    let groups: Vec<Value> = program
        .groups
        .iter()
        .zip(done)
        .map(|(group, done)| {
            let last_pending = done.iter().rposition(Option::is_none);
            let cases: Vec<Value> = group
                .cases
                .iter()
                .zip(done)
                .enumerate()
                .map(|(i, (case, outcome))| {
                    let mode = match (outcome, last_pending) {
                        (None, _) => "run",
                        (Some(Outcome::Ran(_)), Some(last)) if i < last => "replay",
                        _ => "skip",
                    };
                    let mut value = serde_json::to_value(case).unwrap_or(Value::Null);
                    value["mode"] = json!(mode);
                    if let Some(compiled) = code.get(&case_key(&program.filename, case)) {
                        value["code"] = json!(compiled);
                    }
                    value
                })
                .collect();
            json!({"cases": cases})
        })
        .collect();
    json!({
        "filename": program.filename,
        "origin": program.origin,
        "source": program.source,
        "module_name": program.module_name,
        "skip_packages": skip_packages,
        "discover": program.discover,
        "conftests": program.conftests,
        "scratch": SCRATCH_GUEST,
        "output_cap": limits.output_chars,
        "chunks": chunks,
        "chunk_index": chunk_index,
        "groups": groups,
    })
    .to_string()
}

/// Bytes in the files under `dir`, counting stops once past `limit` (the walk stays short).
fn dir_size(dir: &Path, limit: u64) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                // Blocks, not length: a sparse file of any length costs what it holds; every
                // entry costs at least one block, so a million empty files count too.
                use std::os::unix::fs::MetadataExt;
                total += (meta.blocks() * 512).max(4096);
            }
            if total > limit || seen > 1_000_000 {
                return total.max(limit + 1);
            }
        }
    }
    total
}

/// Answers the guest's import of `name` (JSON for `runner/app.py`), remembering what it gave.
fn find_module(host: &Host, imports: &Mutex<Imports>, code: &Mutex<HashMap<String, String>>, name: &str) -> String {
    let mut imports = lock(imports);
    let module = match &host.modules {
        Some(modules) if imports.asked.len() < MAX_IMPORTS && imports.bytes < MAX_IMPORT_BYTES => modules.find(name),
        _ => Module::Missing,
    };
    // What the import found, recorded for the cache; it also keys the module's compiled code
    // (its file name and text are what `compile()` of a whole module depends on).
    let digest = module.digest();
    if !imports.asked.iter().any(|i| i.name == name) {
        imports.asked.push(Import { name: name.to_string(), digest: digest.clone() });
    }
    match module {
        Module::Source { filename, origin, source, package } => {
            imports.bytes += source.len();
            // The module's code as an earlier run compiled it (plain, and as pytest's assertion
            // rewriter made it for a test module), by a key of what compiling depends on.
            let key = format!("module:{digest}");
            let (plain, rewritten) = {
                let cache = lock(code);
                (cache.get(&key).cloned(), cache.get(&format!("{key}:rewritten")).cloned())
            };
            json!({
                "kind": "source", "filename": filename, "origin": origin, "source": source, "package": package,
                "key": key, "code": plain, "rewritten": rewritten,
            })
            .to_string()
        }
        Module::Extension { filename } => json!({"kind": "extension", "filename": filename}).to_string(),
        Module::Missing => json!({"kind": "missing"}).to_string(),
    }
}

/// When an attempt must end (`run`), and when its opening (before the runner's first step) must.
struct Deadlines {
    run: Instant,
    opening: Option<Instant>,
}

/// A pytest run's progress across restarts: what it collected, each test's result by index, and
/// how it ended.
#[derive(Default)]
struct Tests {
    collected: Vec<String>,
    results: BTreeMap<usize, TestResult>,
    done: Option<(Option<i32>, String, Option<String>)>,
}

impl Tests {
    /// The request for the next instance: the tests already reported (or stopped) are deselected.
    fn request(&self, run: &super::TestRun, base: &str) -> String {
        let mut value: Value = serde_json::from_str(base).unwrap_or(Value::Null);
        let next = self.results.keys().next_back().map_or(0, |k| k + 1);
        let deselect: Vec<&String> = self.results.values().map(|r| &r.nodeid).collect();
        value["pytest"] = json!({
            "rootdir": run.rootdir, "file": run.file, "select": run.select, "deselect": deselect, "done": next,
        });
        value.to_string()
    }

    fn finish(&mut self, exit: Option<i32>, output: &str, internal: Option<String>) {
        self.done = Some((exit, output.to_string(), internal));
    }

    /// A test the driver stopped (deadline, trap).
    fn stopped(&mut self, index: usize, error: &Outcome) {
        let nodeid = self.collected.get(index).cloned().unwrap_or_default();
        let name = nodeid.rsplit("::").next().unwrap_or(&nodeid).to_string();
        self.results.insert(
            index,
            TestResult {
                nodeid,
                name,
                line: None,
                outcome: TestOutcome::Stopped,
                report: format!("{error:?}"),
                duration_us: 0,
                exercised: Vec::new(),
            },
        );
    }

    fn problem(&self) -> Option<String> {
        match &self.done {
            // 0: all passed, 1: some failed, 5: nothing collected.
            Some((Some(0 | 1 | 5), _, None)) => None,
            Some((exit, output, internal)) => Some(match internal {
                Some(why) => format!("pytest could not run: {why}"),
                None => format!("pytest ended with status {exit:?}: {}", output.trim()),
            }),
            None if self.results.is_empty() => Some("pytest did not finish".into()),
            None => None,
        }
    }
}
