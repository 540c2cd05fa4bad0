//! The SCIM 2.0 checks and the actions the SCIM driver (`runner/scim.rs`)
//! knows. Each check plays Okta's provisioning client against the target's
//! `[scim]` server: it sends the requests Okta sends (built by mock-idp's
//! `scim::requests`, with Okta's headers), on a fresh canary user or group
//! of its own, and judges the answers by RFC 7643 and RFC 7644 and by what
//! Okta's documents say its client relies on.
//!
//! A check fails only for behaviour the RFCs forbid or that breaks what
//! Okta documents it relies on; behaviour the RFCs allow but that makes an
//! Okta integration weaker is a `warn`.

use super::{Action, Capability, Category, Check, Severity, Weight};

/// A request media type a server must take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/scim+json`, RFC 7644's own.
    ScimJson,
    /// `application/json`, which Okta's SPEC test POSTs with.
    Json,
}

/// What a SCIM check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimAction {
    /// Okta SPEC test steps 1 and 2: the first page of one user, and that
    /// user read by its id.
    SpecListAndGet,
    /// Okta SPEC test steps 3 and 5: a userName filter that matches nobody.
    SpecFilterNoMatch,
    /// Okta SPEC test steps 4 and 12: a user id that does not exist.
    SpecUnknownUser,
    /// Okta SPEC test steps 6 and 7: the SPEC test's create, read back.
    SpecCreateUser,
    /// Okta SPEC test step 8: the same create again.
    SpecDuplicate,
    /// Okta SPEC test step 10: the groups list.
    SpecListGroups,
    /// Okta SPEC test step 11: a request without a valid credential.
    SpecUnauthorized,
    /// Okta's assignment: lookup by userName, create, then found by lookup.
    CrudAssign,
    /// Okta's profile update, by the target's request profile.
    CrudUpdateProfile,
    /// Okta's deactivation, by the target's request profile.
    CrudDeactivate,
    /// Okta's reactivation after a deactivation, by the target's profile.
    CrudReactivate,
    /// A deactivated user is found by Okta's userName lookup, inactive.
    DeactivatedFoundByLookup,
    /// A userName filter in another case finds the user.
    FilterIgnoresCase,
    /// A duplicate create is a 409 with `scimType: uniqueness`.
    DuplicateUniqueness,
    /// A create whose userName differs only in case is a duplicate.
    DuplicateCaseVariant,
    /// A group id that does not exist.
    UnknownGroup,
    /// `itemsPerPage` is the number of resources returned.
    ItemsPerPage,
    /// No page is larger than `count` (Okta's "Test API Credentials").
    CountRespected,
    /// Paging through every user sees each exactly once.
    StablePages,
    /// A PUT that leaves an attribute out clears it.
    PutReplaces,
    /// Okta's path-less PATCH deactivates and reactivates.
    PathlessPatch,
    /// A password sent on create is never returned.
    PasswordNotEchoed,
    /// A create in this media type is taken.
    AcceptsMediaType(MediaType),
    /// A write with a stale `If-Match` is refused, when ETags are offered.
    IfMatch,
    /// An attribute `/Schemas` does not declare is refused or not kept.
    UndeclaredAttribute,
    /// An extension URN `/Schemas` does not declare is refused or not kept.
    UndeclaredExtension,
    /// A user whose email is outside the SP's domains is refused.
    EmailOutsideDomain,
    /// For each attribute the target declares required, Okta's create
    /// without it is refused and stores no user; the full create works.
    RequiredAttributesEnforced,
    /// A create, and an update, giving a user another user's primary email
    /// is a 409 with `scimType: uniqueness`.
    EmailUnique,
    /// The custom attributes the target declares on the core User
    /// (`scim.core_attributes`) are kept and returned as Okta sent them,
    /// and a phone that is not E.164 is refused.
    CustomAttributesKept,
    /// Okta's group push: lookup by displayName, create, then found.
    GroupCreateAndFind,
    /// Okta's membership PATCH (its rename, then `add`) adds the member.
    GroupAddMember,
    /// Okta's rename PATCH keeps the members.
    GroupRenameKeepsMembers,
    /// A `members[value eq "…"]` remove removes exactly that member.
    GroupRemoveFilteredMember,
    /// "Push now" (`replace` of `members`) leaves exactly the pushed members.
    GroupPushNowReplaces,
    /// A displayName filter that matches nobody.
    GroupFilterNoMatch,
    /// Unlinking with delete removes the group and keeps its users active.
    GroupDeleteKeepsUsers,
    /// A member removed from a group stays an active user.
    MemberRemoveKeepsUserActive,
}

const SPEC_FIX: &str = "Run Okta's SCIM 2.0 SPEC test against the server and answer each step as it asserts: ListResponses with integer counts, users with id, userName, name.givenName, name.familyName, emails and active, 201 with the resource on create.";
const ERROR_FIX: &str = "Answer every refusal with the SCIM Error schema (RFC 7644 3.12): \"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:Error\"], \"status\" as a string such as \"404\", a \"detail\", and a \"scimType\" where the RFC defines one.";
const LOOKUP_FIX: &str = "Answer a filter that matches nothing with 200 and an empty ListResponse (totalResults 0), never 404: Okta looks a user or group up before it creates it.";
const LIFECYCLE_FIX: &str = "Deactivate on active false and keep the user: Okta never deletes users, and finds a deactivated user again by its userName lookup to reactivate it. Take Okta's path-less PATCH {\"op\":\"replace\",\"value\":{\"active\":false}} and a PUT with active false alike.";
const GROUP_FIX: &str = "Apply Okta's group PATCH operation by operation: its path-less replace of {id, displayName} renames and nothing more, add with path members adds, remove with path members[value eq \"…\"] removes exactly that member, and replace with path members sets the whole membership.";
const SCHEMA_FIX: &str = "Keep only what /Schemas declares: refuse (400 invalidValue) or drop an attribute or extension URN the schema does not have, or declare it in /Schemas and /ResourceTypes if it is kept.";

macro_rules! scim_check {
    ($id:literal, $title:literal, $category:ident, $severity:ident, $action:expr, $reference:literal, $fix:expr) => {
        scim_check!($id, $title, $category, $severity, $action, $reference, $fix, Fail, &[], false)
    };
    ($id:literal, $title:literal, $category:ident, $severity:ident, $action:expr, $reference:literal, $fix:expr, $weight:ident) => {
        scim_check!($id, $title, $category, $severity, $action, $reference, $fix, $weight, &[], false)
    };
    ($id:literal, $title:literal, $category:ident, $severity:ident, $action:expr, $reference:literal, $fix:expr, $weight:ident, $needs:expr, $exclusive:expr) => {
        Check {
            id: $id,
            title: $title,
            category: Category::$category,
            severity: Severity::$severity,
            reference: $reference,
            needs: $needs,
            action: Action::Scim($action),
            fix: $fix,
            exclusive: $exclusive,
            weight: Weight::$weight,
        }
    };
}

/// Every SCIM check, in report order.
pub fn checks() -> Vec<Check> {
    vec![
        scim_check!(
            "scim.spec.list_and_get",
            "The first page of users, and its first user read by id, carry the attributes Okta's SPEC test asserts",
            Lists,
            High,
            ScimAction::SpecListAndGet,
            "Okta SCIM 2.0 SPEC Test steps 1-2; RFC 7644 3.4.2",
            SPEC_FIX
        ),
        scim_check!(
            "scim.spec.filter_no_match",
            "A userName filter that matches nobody is 200 with totalResults 0",
            Lists,
            High,
            ScimAction::SpecFilterNoMatch,
            "Okta SCIM 2.0 SPEC Test steps 3 and 5; RFC 7644 3.4.2",
            LOOKUP_FIX
        ),
        scim_check!(
            "scim.spec.unknown_user",
            "An unknown user id is 404 with the SCIM Error schema and status as a string",
            Protocol,
            Medium,
            ScimAction::SpecUnknownUser,
            "Okta SCIM 2.0 SPEC Test steps 4 and 12; RFC 7644 3.12",
            ERROR_FIX
        ),
        scim_check!(
            "scim.spec.create_user",
            "The SPEC test's create is 201 with the user, active, and reads back the same",
            Lifecycle,
            High,
            ScimAction::SpecCreateUser,
            "Okta SCIM 2.0 SPEC Test steps 6-7; RFC 7644 3.3",
            SPEC_FIX
        ),
        scim_check!(
            "scim.spec.duplicate",
            "The same create sent again is 409",
            Lifecycle,
            High,
            ScimAction::SpecDuplicate,
            "Okta SCIM 2.0 SPEC Test step 8; RFC 7644 3.3",
            "Refuse a create whose userName is taken with 409 (scimType uniqueness); never answer it with the existing user or a second account."
        ),
        scim_check!(
            "scim.spec.list_groups",
            "GET /Groups is 200 with a ListResponse whose counts agree with its Resources",
            Groups,
            Medium,
            ScimAction::SpecListGroups,
            "Okta SCIM 2.0 SPEC Test step 10; RFC 7644 3.4.2",
            SPEC_FIX
        ),
        scim_check!(
            "scim.spec.unauthorized",
            "A request without a valid credential is 401 with the SCIM Error schema",
            Protocol,
            High,
            ScimAction::SpecUnauthorized,
            "Okta SCIM 2.0 SPEC Test step 11; RFC 7644 2 and 3.12",
            ERROR_FIX
        ),
        scim_check!(
            "scim.crud.assign",
            "Okta's assignment (userName lookup, create, lookup again) creates one user that the lookup then finds",
            Lifecycle,
            Critical,
            ScimAction::CrudAssign,
            "Okta SCIM 2.0 CRUD Test steps 3-4; Okta SCIM 2.0 reference, \"Create the user\"",
            "Answer Okta's percent-encoded lookup filter=userName eq \"…\"&startIndex=1&count=100, create the user on POST with 201 and the resource (its id), and find it by the same lookup afterwards."
        ),
        scim_check!(
            "scim.crud.update_profile",
            "Okta's profile update (by the target's profile: GET then PUT, or PATCH) changes the user",
            Lifecycle,
            High,
            ScimAction::CrudUpdateProfile,
            "Okta SCIM 2.0 CRUD Test steps 5-6; Okta SCIM 2.0 reference, \"Update a specific user\"",
            "Apply the full PUT Okta sends after its GET (or, with PATCH support, its replace of each changed attribute) and return the updated user."
        ),
        scim_check!(
            "scim.crud.deactivate",
            "Okta's deactivation (by the target's profile) leaves the user readable with active false",
            Lifecycle,
            Critical,
            ScimAction::CrudDeactivate,
            "Okta SCIM 2.0 CRUD Test steps 7-8 and 12-13; RFC 7644 3.5.2.3",
            LIFECYCLE_FIX
        ),
        scim_check!(
            "scim.crud.reactivate",
            "Okta's reactivation after a deactivation makes the user active again",
            Lifecycle,
            High,
            ScimAction::CrudReactivate,
            "Okta SCIM 2.0 CRUD Test steps 9-11",
            LIFECYCLE_FIX
        ),
        scim_check!(
            "scim.users.deactivated_found_by_lookup",
            "A deactivated user is found by Okta's userName lookup, with active false",
            Lifecycle,
            High,
            ScimAction::DeactivatedFoundByLookup,
            "Okta SCIM 2.0 reference, \"Create the user\" (a found user is linked, not created again); RFC 7644 3.4.2.2",
            LIFECYCLE_FIX
        ),
        scim_check!(
            "scim.users.filter_ignores_case",
            "A userName eq filter in another case finds the user",
            Lists,
            High,
            ScimAction::FilterIgnoresCase,
            "RFC 7643 4.1.1 (userName caseExact false); RFC 7644 3.4.2.2; Okta SCIM 2.0 SPEC Test step 9",
            "Compare userName in filters ignoring case, as its caseExact false says; Okta's lookup sends the app username as Okta has it, which may differ in case from the stored one."
        ),
        scim_check!(
            "scim.users.duplicate_uniqueness",
            "A duplicate create is 409 with scimType uniqueness in the SCIM Error schema",
            Protocol,
            Medium,
            ScimAction::DuplicateUniqueness,
            "RFC 7644 3.3 and 3.12",
            ERROR_FIX
        ),
        scim_check!(
            "scim.users.duplicate_case_variant",
            "A create whose userName differs from an existing one only in case is 409",
            Lifecycle,
            High,
            ScimAction::DuplicateCaseVariant,
            "RFC 7643 4.1.1 (userName caseExact false, uniqueness server); RFC 7644 3.3",
            "Check userName uniqueness ignoring case, so a case variant is a 409, not a second account for the same person."
        ),
        scim_check!(
            "scim.errors.unknown_group",
            "An unknown group id is 404 with the SCIM Error schema and status as a string",
            Protocol,
            Medium,
            ScimAction::UnknownGroup,
            "RFC 7644 3.4.1 and 3.12",
            ERROR_FIX
        ),
        scim_check!(
            "scim.lists.items_per_page",
            "itemsPerPage is the number of resources returned, not the count asked for",
            Lists,
            Medium,
            ScimAction::ItemsPerPage,
            "RFC 7644 3.4.2.4 (itemsPerPage: the number of results returned)",
            "Set itemsPerPage to the number of resources in the page returned."
        ),
        scim_check!(
            "scim.lists.count_respected",
            "No page is larger than count (Okta's \"Test API Credentials\" asks for 2)",
            Lists,
            Medium,
            ScimAction::CountRespected,
            "RFC 7644 3.4.2.4 (the service provider MUST NOT return more results than specified); Okta SCIM 2.0 reference, \"Test API Credentials\"",
            "Cut each page at count (and at startIndex), and report the whole number of matches in totalResults."
        ),
        scim_check!(
            "scim.lists.stable_pages",
            "Paging through the users with startIndex and count sees each user exactly once",
            Lists,
            Medium,
            ScimAction::StablePages,
            "RFC 7644 3.4.2.4 (clients must be prepared for changes between pages); Okta imports page by page until totalResults",
            "Order list results by something stable (creation order or id) so that Okta's import, page after page, sees every user once.",
            Warn,
            &[],
            true
        ),
        scim_check!(
            "scim.users.put_replaces",
            "A PUT that leaves an attribute out clears it",
            Attributes,
            Medium,
            ScimAction::PutReplaces,
            "RFC 7644 3.5.1 (omitted readWrite attributes MAY be cleared); Okta sends the whole user by PUT",
            "Treat PUT as a replacement: an attribute Okta's PUT leaves out was cleared in Okta, so clear it (or give it its default).",
            Warn
        ),
        scim_check!(
            "scim.users.pathless_patch",
            "Okta's path-less PATCH {\"op\":\"replace\",\"value\":{\"active\":…}} deactivates and reactivates",
            Lifecycle,
            Critical,
            ScimAction::PathlessPatch,
            "RFC 7644 3.5.2.3 (without a path the target is the resource); Okta SCIM 2.0 reference, \"Update a specific user (PATCH)\"",
            LIFECYCLE_FIX
        ),
        scim_check!(
            "scim.users.password_not_echoed",
            "A password sent on create is never returned",
            Attributes,
            High,
            ScimAction::PasswordNotEchoed,
            "RFC 7643 4.1.1 (password: returned never); Okta sends a password on every create",
            "Never return password, in the create reply or any read: its returned characteristic is never."
        ),
        scim_check!(
            "scim.media.scim_json",
            "A create sent as application/scim+json is taken",
            Protocol,
            High,
            ScimAction::AcceptsMediaType(MediaType::ScimJson),
            "RFC 7644 3.1 and 8.1; Okta sends application/scim+json; charset=utf-8",
            "Accept request bodies in application/scim+json (with or without a charset) as well as application/json."
        ),
        scim_check!(
            "scim.media.json",
            "A create sent as application/json is taken",
            Protocol,
            Medium,
            ScimAction::AcceptsMediaType(MediaType::Json),
            "RFC 7644 8.1 (application/json is acceptable); Okta SCIM 2.0 SPEC Test step 6 POSTs application/json",
            "Accept request bodies in application/json as well as application/scim+json."
        ),
        scim_check!(
            "scim.etag.if_match",
            "When the server offers ETags, a write with a stale If-Match is 412 and changes nothing",
            Protocol,
            Medium,
            ScimAction::IfMatch,
            "RFC 7644 3.14 (If-Match; 412 Precondition Failed)",
            "Compare If-Match with the resource's current version before a write and answer 412 when it differs; or offer no ETags."
        ),
        scim_check!(
            "scim.schema.undeclared_attribute",
            "An attribute that /Schemas does not declare is refused or not kept",
            Schema,
            Medium,
            ScimAction::UndeclaredAttribute,
            "RFC 7644 3.3 and 3.12 (400 for a request that violates schema; the server may ignore POSTed content); RFC 7643 7",
            SCHEMA_FIX
        ),
        scim_check!(
            "scim.schema.undeclared_extension",
            "An extension URN that /Schemas does not declare is refused or not kept",
            Schema,
            Medium,
            ScimAction::UndeclaredExtension,
            "RFC 7643 3 (schemas lists only the resource type's schema and schemaExtensions) and 3.3",
            SCHEMA_FIX
        ),
        scim_check!(
            "scim.users.email_outside_domain",
            "A user whose email is outside the SP's email domains is refused, as sign-in would refuse them",
            Accounts,
            Medium,
            ScimAction::EmailOutsideDomain,
            "RFC 7644 3.3 and 3.12 (400 invalidValue); the target's accounts.email_domains",
            "Apply the tenant's email domain rule to SCIM writes too, answering 400 invalidValue, so SCIM cannot make accounts that sign-in would refuse.",
            Warn,
            &[Capability::EmailDomains],
            false
        ),
        scim_check!(
            "scim.users.custom_attributes_kept",
            "The custom attributes Okta sends on the core User (External namespace urn:ietf:params:scim:schemas:core:2.0:User) are kept and returned, and a phone that is not E.164 is refused",
            Schema,
            Medium,
            ScimAction::CustomAttributesKept,
            "MoovingON guide (moovingon_ai_admin boolean, firstPhone and secondPhone E.164 in the core namespace); Okta's Profile Editor (External namespace); RFC 7643 2.3 and 7; RFC 7644 3.12 (400 invalidValue)",
            "Declare each custom attribute on the User in /Schemas with its type, keep it when Okta sends it at the top level of the User, return it on read, and refuse a value of the wrong type or a phone that is not E.164 with 400 invalidValue."
        ),
        scim_check!(
            "scim.users.required_attributes_enforced",
            "Okta's create of a user without an attribute the SP requires is refused with a SCIM 400 and stores no user",
            Accounts,
            Medium,
            ScimAction::RequiredAttributesEnforced,
            "RFC 7644 3.3 and 3.12 (400 invalidValue); RFC 7643 2.2 (required); the target's scim.required_attributes (the Appenate guide's first name, last name and email)",
            "Check every attribute the SP requires on create and replace, answer 400 with the SCIM Error schema, scimType invalidValue and a detail naming the attribute, store nothing, and mark the attribute required in /Schemas."
        ),
        scim_check!(
            "scim.users.email_unique",
            "A create or update giving a user another user's primary email is refused with 409 uniqueness",
            Accounts,
            Medium,
            ScimAction::EmailUnique,
            "RFC 7644 3.3 and 3.12 (409 uniqueness); the target's scim.email_unique (the Appenate guide: the email is the username)",
            "Keep the primary email unique in the tenant when it is the SP's username: refuse a create or an update that would give a user another user's email with 409 and scimType uniqueness."
        ),
        scim_check!(
            "scim.groups.create_and_find",
            "Okta's group push (displayName lookup, create) makes a group the lookup then finds",
            Groups,
            High,
            ScimAction::GroupCreateAndFind,
            "Okta SCIM 2.0 reference, \"Create groups\"; RFC 7644 3.3 and 3.4.2.2",
            "Create the group on POST /Groups with 201 and its id, and answer Okta's filter=displayName eq \"…\" lookup with it."
        ),
        scim_check!(
            "scim.groups.add_member",
            "Okta's membership PATCH (its rename, then add with path members) adds the member",
            Groups,
            High,
            ScimAction::GroupAddMember,
            "Okta SCIM 2.0 reference, \"Update a specific group membership\"; RFC 7644 3.5.2.1",
            GROUP_FIX
        ),
        scim_check!(
            "scim.groups.rename_keeps_members",
            "Okta's rename PATCH {\"op\":\"replace\",\"value\":{\"id\",\"displayName\"}} renames and keeps the members",
            Groups,
            Critical,
            ScimAction::GroupRenameKeepsMembers,
            "RFC 7644 3.5.2.3 (replace without a path replaces only the attributes given); Okta SCIM 2.0 reference, \"Update a specific group name\"",
            GROUP_FIX
        ),
        scim_check!(
            "scim.groups.remove_filtered_member",
            "A remove with path members[value eq \"…\"] removes exactly that member",
            Groups,
            Critical,
            ScimAction::GroupRemoveFilteredMember,
            "RFC 7644 3.5.2.2; Okta SCIM 2.0 reference, \"Update a specific group membership\"",
            GROUP_FIX
        ),
        scim_check!(
            "scim.groups.push_now_replaces",
            "\"Push now\" (replace with path members) leaves exactly the pushed members",
            Groups,
            High,
            ScimAction::GroupPushNowReplaces,
            "RFC 7644 3.5.2.3; Okta's \"Push now\" sends the whole membership",
            GROUP_FIX
        ),
        scim_check!(
            "scim.groups.filter_no_match",
            "A displayName filter that matches nobody is 200 with totalResults 0",
            Groups,
            High,
            ScimAction::GroupFilterNoMatch,
            "RFC 7644 3.4.2; Okta looks a group up by displayName before it creates it",
            LOOKUP_FIX
        ),
        scim_check!(
            "scim.groups.delete_keeps_users",
            "Okta's unlink with delete removes the group (then 404) and leaves its members active",
            Groups,
            High,
            ScimAction::GroupDeleteKeepsUsers,
            "RFC 7644 3.6; Okta SCIM 2.0 reference, \"Delete a specific group\"",
            "Delete the group on DELETE /Groups/{id} (204) and leave its members' accounts as they were: a group going away is no deactivation."
        ),
        scim_check!(
            "scim.groups.member_remove_keeps_user_active",
            "A member removed from a group stays an active user",
            Groups,
            High,
            ScimAction::MemberRemoveKeepsUserActive,
            "Okta SCIM 2.0 reference: a group membership change is not a deactivation, which Okta sends as active false",
            "Remove only the membership: Okta deactivates a user with active false, never by taking them out of a group."
        ),
    ]
}
