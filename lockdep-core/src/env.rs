//! The `LOCKDEP_*` environment variables: which ones lockdep reads and what values they take,
//! and the warnings about the others, once per process, on the process's real stderr (a test
//! harness captures what test threads print with `eprintln!`, and a warning that only shows
//! for a failing test is no warning). A misspelt variable or value otherwise leaves a run
//! unchecked, or checked differently, in silence.

use std::io::Write as _;
use std::sync::Once;

/// A variable lockdep reads, the values it takes (`None`: any), and what lockdep does with
/// a value it does not take.
struct Known {
    name: &'static str,
    valid: Option<fn(&str) -> bool>,
    expected: &'static str,
    otherwise: &'static str,
}

/// Every variable lockdep reads (`lockdep-core`), and `cargo lockdep`'s test processes'
/// (`LOCKDEP_SUPPRESSIONS`, read by both).
const KNOWN: &[Known] = &[
    Known {
        name: "LOCKDEP_MODE",
        // `Mode::parse`'s (`mode` reads this module: it cannot be asked here).
        valid: Some(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "panic" | "warn" | "collect" | "off"
            )
        }),
        expected: "panic, warn, collect or off",
        otherwise: "using warn",
    },
    Known {
        name: "LOCKDEP_REPORT_DIR",
        valid: None,
        expected: "a directory",
        otherwise: "",
    },
    Known {
        name: "LOCKDEP_REPORT_SYMBOLS",
        valid: Some(|v| matches!(v, "process" | "merge")),
        expected: "process or merge",
        otherwise: "using process",
    },
    Known {
        name: "LOCKDEP_EXIT_CODE",
        valid: Some(is_exit_code),
        expected: "an exit status, 0 to keep the program's own",
        otherwise: "using 66",
    },
    Known {
        name: "LOCKDEP_FAULT_EXIT_CODE",
        valid: Some(is_exit_code),
        expected: "an exit status, 0 to keep the program's own",
        otherwise: "using 67",
    },
    Known {
        name: "LOCKDEP_EXIT_REPORT",
        valid: Some(|v| matches!(v, "stderr" | "file" | "summary")),
        expected: "stderr, file or summary",
        otherwise: "using stderr",
    },
    Known {
        name: "LOCKDEP_WATCHDOG",
        valid: Some(|v| v.trim().parse::<f64>().is_ok_and(|s| s >= 0.0)),
        expected: "seconds (0: off)",
        otherwise: "the watchdog is off",
    },
    Known {
        name: "LOCKDEP_WATCHDOG_EXIT_CODE",
        valid: Some(is_exit_code),
        expected: "an exit status",
        otherwise: "using 68",
    },
    Known {
        name: "LOCKDEP_SUPPRESSIONS",
        valid: None,
        expected: "a suppression file",
        otherwise: "",
    },
];

/// Whether `value` is one the variable `name` takes (any value, for a variable lockdep does
/// not read).
#[cfg(test)]
pub(crate) fn takes(name: &str, value: &str) -> bool {
    KNOWN
        .iter()
        .find(|k| k.name == name)
        .and_then(|k| k.valid)
        .is_none_or(|valid| valid(value))
}

fn is_exit_code(v: &str) -> bool {
    v.trim().parse::<i32>().is_ok()
}

/// Writes `lockdep: MESSAGE` to the process's stderr, past any capture of a test harness.
pub(crate) fn warn(message: &str) {
    let _ = std::io::stderr().write_all(format!("lockdep: {message}\n").as_bytes());
}

static CHECKED: Once = Once::new();

/// Warns, once per process, about the `LOCKDEP_*` variables of the environment that lockdep
/// does not read or whose values it does not take, or, built without the checker, that they
/// are set at all.
pub(crate) fn check_once() {
    CHECKED.call_once(|| {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                k.starts_with("LOCKDEP_")
                    .then(|| (k, v.to_string_lossy().into_owned()))
            })
            .collect();
        for message in problems(&vars, cfg!(feature = "enabled")) {
            warn(&message);
        }
    });
}

/// What is wrong with `vars` (the `LOCKDEP_*` variables and their values), for a build with
/// the checker (`enabled`) or without.
fn problems(vars: &[(String, String)], enabled: bool) -> Vec<String> {
    if vars.is_empty() {
        return Vec::new();
    }
    if !enabled {
        let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        return vec![format!(
            "{} set, but this build of lockdep has no checker (its `enabled` feature is off): \
             nothing is checked. Turn it on for test builds (`features = [\"enabled\"]` on \
             lockdep in [dev-dependencies])",
            match names.as_slice() {
                [one] => format!("{one} is"),
                many => format!("{} are", many.join(", ")),
            }
        )];
    }
    let mut out = Vec::new();
    for (name, value) in vars {
        match KNOWN.iter().find(|k| k.name == name) {
            None => {
                let names: Vec<&str> = KNOWN.iter().map(|k| k.name).collect();
                out.push(format!(
                    "unknown variable {name} (ignored; lockdep reads {})",
                    names.join(", ")
                ));
            }
            Some(known) => {
                if known.valid.is_some_and(|valid| !valid(value)) {
                    out.push(format!(
                        "{name}={value:?} is not a value it takes (expected {}): {}",
                        known.expected, known.otherwise
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::env::problems;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn known_variables_with_values_they_take_say_nothing() {
        let ok = vars(&[
            ("LOCKDEP_MODE", "Collect"),
            ("LOCKDEP_REPORT_DIR", "/tmp/x"),
            ("LOCKDEP_REPORT_SYMBOLS", "merge"),
            ("LOCKDEP_EXIT_CODE", "0"),
            ("LOCKDEP_FAULT_EXIT_CODE", " 3 "),
            ("LOCKDEP_EXIT_REPORT", "file"),
            ("LOCKDEP_SUPPRESSIONS", ""),
        ]);
        assert_eq!(problems(&ok, true), Vec::<String>::new());
        assert_eq!(problems(&[], false), Vec::<String>::new());
    }

    #[test]
    fn unknown_variables_and_values_are_named() {
        let found = problems(
            &vars(&[
                ("LOCKDEP_MODE", "bogus"),
                ("LOCKDEP_MDOE", "warn"),
                ("LOCKDEP_EXIT_CODE", "sixty-six"),
            ]),
            true,
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with(
            "LOCKDEP_MODE=\"bogus\" is not a value it takes (expected panic, warn, collect or off): using warn"
        ));
        assert!(found[1]
            .starts_with("unknown variable LOCKDEP_MDOE (ignored; lockdep reads LOCKDEP_MODE, "));
        assert!(found[2].contains("LOCKDEP_EXIT_CODE=\"sixty-six\""));
    }

    #[test]
    fn without_the_checker_any_variable_is_a_warning() {
        let found = problems(
            &vars(&[("LOCKDEP_MODE", "panic"), ("LOCKDEP_REPORT_DIR", "/r")]),
            false,
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with(
                "LOCKDEP_MODE, LOCKDEP_REPORT_DIR are set, but this build of lockdep has no checker"
            ),
            "{found:?}"
        );
        let one = problems(&vars(&[("LOCKDEP_MODE", "panic")]), false);
        assert!(one[0].starts_with("LOCKDEP_MODE is set, but"), "{one:?}");
    }
}
