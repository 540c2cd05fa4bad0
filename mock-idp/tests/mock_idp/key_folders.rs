//! Which key folder an org gets by default: the built-in org and a file
//! with its text (`fixtures/orgs/acme.toml`, or a copy) share one, so
//! `mockta idp` and `mockta saml mint --org fixtures/orgs/acme.toml` sign
//! with the same certificate; any other org file has its own.

use std::path::{Path, PathBuf};

use mock_idp::idp::KeySource;
use mock_idp::setup::{BUILTIN_ORG, IdpOptions};

use crate::support::org;

fn default_key_folder(org_file: Option<&Path>) -> PathBuf {
    let options = IdpOptions { org_file: org_file.map(Path::to_path_buf), ..IdpOptions::default() };
    match options.key_source(&org()).unwrap() {
        KeySource::Directory(store) => store.dir().to_path_buf(),
        KeySource::Fixed(_) => panic!("no --signing-key was given"),
    }
}

fn fixture_org_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/orgs/acme.toml")
}

#[test]
fn builtin_org_and_its_fixture_file_share_a_key_folder() {
    assert_eq!(std::fs::read_to_string(fixture_org_file()).unwrap(), BUILTIN_ORG, "the fixture is the built-in org");
    assert_eq!(default_key_folder(Some(&fixture_org_file())), default_key_folder(None));
}

#[test]
fn a_copy_of_the_builtin_org_with_other_line_endings_shares_its_key_folder() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("my-org.toml");
    std::fs::write(&copy, BUILTIN_ORG.replace('\n', "\r\n")).unwrap();
    assert_eq!(default_key_folder(Some(&copy)), default_key_folder(None));
}

#[test]
fn another_org_file_has_its_own_key_folder() {
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("acme.toml");
    std::fs::write(&changed, format!("{BUILTIN_ORG}\n# changed\n")).unwrap();
    assert_ne!(default_key_folder(Some(&changed)), default_key_folder(None));
}
