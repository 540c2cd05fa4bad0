//! Faults for SCIM traffic: the real Okta behaviours that SCIM servers
//! mishandle, armed per app so a server's handling of each can be seen.
//!
//! Each fault changes Okta's request sequence in one documented way; the
//! functions here make the change to requests built by
//! [`super::requests`], so the engine only decides whether a fault is armed.
//! Where Okta documents the behaviour but not its exact bytes (the second
//! create after a timeout, batches of a large push), the shape is a model and
//! says so.

use serde::Serialize;
use serde_json::Value;

use super::requests::{Member, UserView};
use super::{PAGE_SIZE, ScimRequest};
use crate::org::provisioning::{ScimAttributePath, ScimProvisioning};

/// One SCIM fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScimFault {
    /// The `userName eq` lookup before a create carries the userName in
    /// upper case, as Okta's SPEC test does with `randomUsernameCaps`; a
    /// server whose filter is case-sensitive answers "none", and the create
    /// that follows collides.
    #[serde(rename = "username-case")]
    UserNameCase,
    /// The create is sent twice, as Okta does when the first reply did not
    /// arrive within its timeout: the first reply is treated as lost and the
    /// second is the one Okta reads. A server that creates a second account
    /// is exposed; one that answers 409 gives a failed task whose retry
    /// finds and links the user.
    DuplicateCreate,
    /// Unset mapped attributes are sent as empty strings instead of being
    /// left out (Okta's "push empty values" test case).
    EmptyStrings,
    /// A profile `PUT` carries only the required attributes (`userName`,
    /// `name`, `emails`, `active`) and the mapped values, not the rest of the
    /// object it read; a server that treats a missing attribute as "keep"
    /// differs from one that clears it.
    PutOmitsOptional,
    /// A group rename travels in the same `PATCH` as a membership change:
    /// the rename operation, then an `add` of the group's linked members.
    RenameWithMembership,
    /// "Push now" sends a group's membership in batches of one page (100):
    /// a `replace` with the first page, then an `add` per further page, so a
    /// group with more members than one page tests the server's handling of
    /// both (the batch size is a model; Okta does not document it).
    LargeGroupPush,
}

/// A fault name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SCIM fault '{0}' (known: {known})", known = ScimFault::names().join(", "))]
pub struct UnknownScimFault(pub String);

impl ScimFault {
    pub const ALL: [ScimFault; 6] = [
        ScimFault::UserNameCase,
        ScimFault::DuplicateCreate,
        ScimFault::EmptyStrings,
        ScimFault::PutOmitsOptional,
        ScimFault::RenameWithMembership,
        ScimFault::LargeGroupPush,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScimFault::UserNameCase => "username-case",
            ScimFault::DuplicateCreate => "duplicate-create",
            ScimFault::EmptyStrings => "empty-strings",
            ScimFault::PutOmitsOptional => "put-omits-optional",
            ScimFault::RenameWithMembership => "rename-with-membership",
            ScimFault::LargeGroupPush => "large-group-push",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ScimFault::UserNameCase => "the userName lookup before a create is sent in upper case",
            ScimFault::DuplicateCreate => "the create is sent twice, as after a timeout; the second reply is read",
            ScimFault::EmptyStrings => "unset mapped attributes are sent as empty strings",
            ScimFault::PutOmitsOptional => "a profile PUT carries only the required and mapped attributes",
            ScimFault::RenameWithMembership => "a group rename is sent in one PATCH with a membership add",
            ScimFault::LargeGroupPush => "Push now sends a group's members in batches of 100",
        }
    }

    fn names() -> Vec<&'static str> {
        ScimFault::ALL.iter().map(|f| f.name()).collect()
    }
}

impl std::str::FromStr for ScimFault {
    type Err = UnknownScimFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ScimFault::ALL.into_iter().find(|f| f.name() == text).ok_or_else(|| UnknownScimFault(text.to_owned()))
    }
}

/// The faults armed for one operation's app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArmedFaults(Vec<ScimFault>);

impl ArmedFaults {
    pub fn new(faults: impl IntoIterator<Item = ScimFault>) -> Self {
        let mut armed: Vec<ScimFault> = Vec::new();
        for fault in faults {
            if !armed.contains(&fault) {
                armed.push(fault);
            }
        }
        ArmedFaults(armed)
    }

    pub fn has(&self, fault: ScimFault) -> bool {
        self.0.contains(&fault)
    }
}

/// The userName the lookup filters on: the app username, or under
/// [`ScimFault::UserNameCase`] the same in upper case.
pub fn lookup_user_name(user_name: &str, faults: &ArmedFaults) -> String {
    if faults.has(ScimFault::UserNameCase) { user_name.to_uppercase() } else { user_name.to_owned() }
}

/// Under [`ScimFault::EmptyStrings`], the view with an empty string for each
/// mapped attribute that has no value, in mapping order.
pub fn with_empty_strings(view: UserView, settings: &ScimProvisioning, faults: &ArmedFaults) -> UserView {
    if !faults.has(ScimFault::EmptyStrings) {
        return view;
    }
    let mut values: Vec<(ScimAttributePath, Value)> = Vec::new();
    for mapping in &settings.mappings {
        let value = view
            .values
            .iter()
            .find(|(path, _)| path == &mapping.target)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| Value::String(String::new()));
        values.push((mapping.target.clone(), value));
    }
    UserView { values, ..view }
}

/// The core attributes Okta requires of every SCIM user; a PUT under
/// [`ScimFault::PutOmitsOptional`] carries only these.
const REQUIRED_USER_ATTRIBUTES: [&str; 6] = ["schemas", "id", "userName", "name", "emails", "active"];

/// Under [`ScimFault::PutOmitsOptional`], the PUT with only the required
/// attributes: what the server had beyond them, `displayName`, `externalId`
/// and extension attributes are left out.
pub fn trim_put(request: ScimRequest, faults: &ArmedFaults) -> ScimRequest {
    if !faults.has(ScimFault::PutOmitsOptional) {
        return request;
    }
    let body = request.body.map(|body| {
        let kept: serde_json::Map<String, Value> = body
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter(|(key, _)| REQUIRED_USER_ATTRIBUTES.contains(&key.as_str()))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Value::Object(kept)
    });
    ScimRequest { body, ..request }
}

/// The batches "Push now" sends a group's members in: one, or under
/// [`ScimFault::LargeGroupPush`] one per page of [`PAGE_SIZE`].
pub fn member_batches(members: Vec<Member>, faults: &ArmedFaults) -> Vec<Vec<Member>> {
    if !faults.has(ScimFault::LargeGroupPush) || members.len() <= PAGE_SIZE {
        return vec![members];
    }
    members.chunks(PAGE_SIZE).map(<[Member]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_catalogue() {
        for fault in ScimFault::ALL {
            assert_eq!(fault.name().parse::<ScimFault>(), Ok(fault));
        }
        let unknown = "nope".parse::<ScimFault>().map_err(|e| e.to_string());
        assert_eq!(
            unknown,
            Err("unknown SCIM fault 'nope' (known: username-case, duplicate-create, empty-strings, put-omits-optional, rename-with-membership, large-group-push)".to_owned())
        );
    }

    #[test]
    fn a_large_push_is_split_by_page_only_when_armed() {
        let members: Vec<Member> =
            (0..250).map(|n| Member { scim_id: format!("u{n}"), display: format!("user{n}") }).collect();
        assert_eq!(member_batches(members.clone(), &ArmedFaults::default()).len(), 1);
        let batches = member_batches(members, &ArmedFaults::new([ScimFault::LargeGroupPush]));
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
    }

    #[test]
    fn the_lookup_case_changes_only_when_armed() {
        assert_eq!(lookup_user_name("Alice@acme.test", &ArmedFaults::default()), "Alice@acme.test");
        assert_eq!(
            lookup_user_name("Alice@acme.test", &ArmedFaults::new([ScimFault::UserNameCase])),
            "ALICE@ACME.TEST"
        );
    }
}
