//! The vendor profiles (`mockta demo --profile NAME`): each passes against
//! the reference-SP tenant that plays its vendor, and its flawed twin fails
//! exactly the checks and play steps its `profile.toml` table names.

use std::collections::BTreeSet;
use std::net::SocketAddr;

/// The profiles and their runner, compiled from the CLI's own source.
#[path = "../../src/profile.rs"]
#[allow(dead_code)]
mod profile;

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn run(name: &str, twin: bool) -> (profile::ProfileRun, String) {
    let builtin = profile::find_profile(name).unwrap();
    let flaws = if twin { builtin.parse().unwrap().twin.flaws } else { Vec::new() };
    let dir = tempfile::tempdir().unwrap();
    let place = profile::ProfilePlace { sp: any_port(), idp: any_port(), dir: dir.path() };
    let run = profile::run_profile(&builtin, &flaws, &place, |_| {}).await.unwrap();
    let text = format!("{}{}", run.report.to_human(), run.play.to_human(&run.profile.title));
    (run, text)
}

async fn passes_against_its_tenant(name: &str) {
    let (run, text) = run(name, false).await;
    assert!(run.failing_checks().is_empty(), "{name}: checks failed against its tenant:\n{text}");
    assert!(!run.play.lines.is_empty() && run.play.passed(), "{name}: the play failed against its tenant:\n{text}");
    assert!(run.report.summary.pass > 0, "{name}: no check passed:\n{text}");
}

async fn twin_fails_what_its_table_names(name: &str) {
    let (run, text) = run(name, true).await;
    let want: BTreeSet<String> = run.profile.twin.fails.iter().cloned().collect();
    assert_eq!(run.failing_checks(), want, "{name}: the twin's failing checks differ from its table:\n{text}");
    assert_eq!(run.play.failed_steps(), run.profile.twin.play_fails, "{name}: the twin's failing play steps:\n{text}");
}

macro_rules! profile_tests {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn passes_against_its_tenant() {
                super::passes_against_its_tenant(stringify!($name)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn twin_fails_exactly_the_checks_and_steps_its_table_names() {
                super::twin_fails_what_its_table_names(stringify!($name)).await;
            }
        }
    };
}

profile_tests!(mobius);
profile_tests!(moovingon);
profile_tests!(koopid);
profile_tests!(appenate);
profile_tests!(moxion);

#[test]
fn every_profile_names_a_vendor_guide_and_twin_flaws_the_reference_sp_has() {
    let known: BTreeSet<&str> = reference_sp::flaws::Flaw::ALL.iter().map(|f| f.name()).collect();
    let catalogue: BTreeSet<&str> = conformance::catalogue::all_checks().iter().map(|c| c.id).collect();
    let mut guides = BTreeSet::new();
    for builtin in profile::builtin_profiles() {
        let parsed = builtin.parse().unwrap();
        assert_eq!(parsed.name, builtin.name);
        // The guides live beside the repository, not in it: the name is
        // checked for the seeds' shape, and each profile has its own.
        let (number, rest) = parsed.guide.split_once('_').unwrap_or_default();
        assert!(number.len() == 3 && rest.ends_with(".txt"), "{}: guide {}", parsed.name, parsed.guide);
        assert!(guides.insert(parsed.guide.clone()), "{}: guide {} played twice", parsed.name, parsed.guide);
        for flaw in &parsed.twin.flaws {
            assert!(known.contains(flaw.as_str()), "{}: unknown flaw {flaw}", parsed.name);
        }
        for check in &parsed.twin.fails {
            assert!(catalogue.contains(check.as_str()), "{}: unknown check {check}", parsed.name);
        }
    }
}

#[test]
fn an_unknown_profile_is_one_line_naming_the_known_ones() {
    let error = profile::find_profile("okta-classic").err().unwrap();
    assert!(error.starts_with("--profile: no profile 'okta-classic' (there are: "), "{error}");
    assert!(!error.contains('\n'));
}
