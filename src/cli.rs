//! The command line: clap types and their conversion into a validated configuration.
//! No I/O happens here.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::console::Verbosity;

const EXAMPLES: &str = "\
Examples:
  autorun scripts/sleeptest.rhai seconds=1          run a test (same as `autorun run …`)
  autorun scripts/hashbench.rhai iterations=5 'constraints=[\"mb_per_s > 100\"]'
  autorun --retry 3 scripts/flaky.rhai              retry fail_retry() up to 3 times
  autorun scripts/sleeptest.rhai --results /tmp/r   results into a new or empty directory
  autorun scripts/control.rhai                      a control file: a suite in one job
  autorun list scripts                              what the tests are and accept
  autorun repl scripts/sleeptest.rhai               step through a live test

Arguments are KEY=VALUE: true/false → bool, 42 → int, 0.5 → float, text starting with
[ { or \" → JSON, anything else → string. Unknown keys are refused before anything runs.

Exit codes: 0 all GOOD/WARN/TEST_NA, 1 a test FAIL/ERROR, 2 nothing ran (usage, unknown
parameter, compile error), 3 the job aborted, 130 interrupted by Ctrl-C.";

/// autorun runs system tests and benchmarks written as Rhai scripts, with the autotest
/// lifecycle (initialize, setup, warmup, run_once iterations, postprocess, cleanup),
/// keyvals, perf values, constraints, retries and an autotest status log.
#[derive(Debug, Parser)]
#[command(name = "autorun", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; a bare script path means `run`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a test script or a control file (the default when the first word is a script).
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Open an interactive session on a live test (or a scratch session without a script).
    Repl(ReplArgs),
    /// Compile scripts and validate arguments without running anything.
    Check(CheckArgs),
    /// List the tests found in directories, without running them.
    List(ListArgs),
    /// Print every host function a script can call, with signatures and docs.
    Api(ApiArgs),
}

/// Options of `autorun run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The test script or control file (.rhai). Write `./run` for a script named like a
    /// subcommand.
    pub script: PathBuf,
    /// Test arguments as KEY=VALUE, e.g. seconds=2 iterations=3 mode=rw sizes=[4096,8192].
    #[arg(value_name = "KEY=VALUE")]
    pub words: Vec<String>,
    /// The job's options.
    #[command(flatten)]
    pub job: JobArgs,
    /// When a test ends FAIL or ERROR, open the REPL on it before its cleanup runs.
    #[arg(long)]
    pub repl_on_fail: bool,
}

/// Options of `autorun repl`.
#[derive(Debug, Args)]
pub struct ReplArgs {
    /// The test script to load; without one, a scratch session with every host module.
    pub script: Option<PathBuf>,
    /// Test arguments as KEY=VALUE.
    #[arg(value_name = "KEY=VALUE")]
    pub words: Vec<String>,
    /// The job's options.
    #[command(flatten)]
    pub job: JobArgs,
}

/// Options of `autorun check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scripts to check, then KEY=VALUE arguments to validate against each of them.
    #[arg(value_name = "SCRIPT|KEY=VALUE", required = true)]
    pub words: Vec<String>,
}

/// Options of `autorun list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Directories to search (default: the current directory).
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Only tests whose TAGS contain this tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Print JSON for machines.
    #[arg(long)]
    pub json: bool,
}

/// Output formats of `autorun api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiFormat {
    /// Markdown, for people.
    Md,
    /// JSON, for tools.
    Json,
    /// A Rhai definitions file (`.d.rhai`) for editors and language servers.
    RhaiDefs,
}

/// Options of `autorun api`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The output format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: ApiFormat,
}

/// Options shared by everything that runs a job.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Results directory: must be new or empty. Default: results/<label>-<YYYYmmdd-HHMMSS>/
    /// with results/latest pointing at it.
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Allow --results to name a directory that already holds results, and add to it.
    #[arg(long)]
    pub reuse_results: bool,
    /// The job label, used in the default results directory name and the job keyval.
    #[arg(long)]
    pub label: Option<String>,
    /// Retry an iteration that calls fail_retry() up to N times (the job's test_retry).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry: u32,
    /// Stop a test after N seconds (ERROR); cleanup still runs. Overrides TIMEOUT.
    #[arg(long, value_name = "N")]
    pub timeout: Option<u64>,
    /// Print nothing but errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also echo the tests' log lines to stderr.
    #[arg(short, long)]
    pub verbose: bool,
    /// A directory to look tests up in by name; repeatable, later ones win. Default:
    /// `tests` and `site_tests` next to the control file, when present.
    #[arg(long, value_name = "DIR")]
    pub testdir: Vec<PathBuf>,
}

impl JobArgs {
    /// The console verbosity the flags ask for.
    pub fn verbosity(&self) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if self.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }
}

const SUBCOMMANDS: &[&str] = &["run", "repl", "check", "list", "api", "help"];

/// Parses the command line; `autorun SCRIPT …` is read as `autorun run SCRIPT …`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
        let is_flag = matches!(first, "-h" | "--help" | "-V" | "--version");
        if !is_flag && !SUBCOMMANDS.contains(&first) {
            args.insert(1, "run".into());
        }
    }
    Cli::try_parse_from(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Cli, clap::Error> {
        parse(
            std::iter::once("autorun")
                .chain(words.iter().copied())
                .map(OsString::from),
        )
    }

    #[test]
    fn a_bare_script_means_run_and_options_go_anywhere() {
        let cli = parse_words(&["--retry", "2", "t.rhai", "seconds=1", "-q"]).expect("parses");
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.script, PathBuf::from("t.rhai"));
        assert_eq!(run.words, vec!["seconds=1"]);
        assert_eq!(run.job.retry, 2);
        assert_eq!(run.job.verbosity(), Verbosity::Quiet);
    }

    #[test]
    fn the_run_subcommand_can_be_spelled_out() {
        let cli = parse_words(&["run", "t.rhai", "--results", "/tmp/x"]).expect("parses");
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.job.results, Some(PathBuf::from("/tmp/x")));
        let cli = parse_words(&["list", "scripts", "--tag", "quick"]).expect("parses");
        assert!(matches!(
            cli.command,
            Command::List(ListArgs { tag: Some(_), .. })
        ));
    }
}
