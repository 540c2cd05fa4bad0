//! SCIM filters (RFC 7644 §3.4.2.2): parsed into a [`Filter`] tree, then
//! evaluated against a resource as JSON.
//!
//! Attribute names match without regard to case, as the RFC requires.
//! String comparisons ignore case unless the attribute is `caseExact`:
//! `id`, `externalId` and `meta.version` (the references `groups.value`,
//! `members.value` and `$ref` are compared ignoring case, which is safe for
//! this server's lowercase ids). `meta.created` and `meta.lastModified`
//! compare as instants.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ScimError;

/// `[URI ":"] name ["." sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: the inner filter applies to each element.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::InvalidFilter(detail.into())
}

fn tokenize(text: &str) -> Result<Vec<Token>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '[' => {
                chars.next();
                tokens.push(Token::OpenBracket);
            }
            ']' => {
                chars.next();
                tokens.push(Token::CloseBracket);
            }
            '"' => {
                // A JSON string, escapes included.
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (at, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(at);
                        break;
                    }
                }
                let end = end.ok_or_else(|| invalid("a string is not closed"))?;
                let literal = &text[start..=end];
                let value: String =
                    serde_json::from_str(literal).map_err(|_| invalid(format!("{literal} is not a valid string")))?;
                tokens.push(Token::Text(value));
            }
            _ => {
                let mut end = text.len();
                while let Some(&(at, c)) = chars.peek() {
                    if matches!(c, ' ' | '\t' | '\n' | '\r' | '(' | ')' | '[' | ']' | '"') {
                        end = at;
                        break;
                    }
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_owned()));
            }
        }
    }
    Ok(tokens)
}

/// The most nesting a filter may have, so a hostile filter cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, ScimError> {
        if depth > MAX_DEPTH {
            return Err(invalid("the filter is nested too deeply"));
        }
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            self.next();
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, ScimError> {
        let mut left = self.unary(depth)?;
        while self.keyword("and") {
            self.next();
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, ScimError> {
        if self.keyword("not") {
            self.next();
            if self.next() != Some(Token::Open) {
                return Err(invalid("'not' must be followed by '('"));
            }
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Token::Close) {
                return Err(invalid("a '(' is not closed"));
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Token::Close) {
                return Err(invalid("a '(' is not closed"));
            }
            return Ok(inner);
        }
        self.attribute_expression(depth)
    }

    fn attribute_expression(&mut self, depth: usize) -> Result<Filter, ScimError> {
        let Some(Token::Word(word)) = self.next() else {
            return Err(invalid("an attribute name was expected"));
        };
        let path = parse_attr_path(&word)?;
        if self.peek() == Some(&Token::OpenBracket) {
            self.next();
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Token::CloseBracket) {
                return Err(invalid("a '[' is not closed"));
            }
            return Ok(Filter::ValuePath { path, filter: Box::new(inner) });
        }
        let Some(Token::Word(op)) = self.next() else {
            return Err(invalid(format!("an operator was expected after '{word}'")));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            other => return Err(invalid(format!("'{other}' is not a SCIM filter operator"))),
        };
        let value = match self.next() {
            Some(Token::Text(text)) => Value::String(text),
            Some(Token::Word(word)) => match word.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                number => serde_json::from_str::<serde_json::Number>(number)
                    .map(Value::Number)
                    .map_err(|_| invalid(format!("'{number}' is not a value (strings are quoted)")))?,
            },
            _ => return Err(invalid("a value was expected")),
        };
        Ok(Filter::Compare { path, op, value })
    }
}

/// Parses `urn:…:User:name.givenName`, `emails.value` or `userName`.
pub fn parse_attr_path(text: &str) -> Result<AttrPath, ScimError> {
    let (uri, rest) = match text.rfind(':') {
        Some(at) if text.to_ascii_lowercase().starts_with("urn:") => (Some(text[..at].to_owned()), &text[at + 1..]),
        _ => (None, text),
    };
    let mut parts = rest.splitn(2, '.');
    let name = parts.next().unwrap_or_default().to_owned();
    let sub = parts.next().map(str::to_owned);
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
    };
    if !valid(&name) || sub.as_deref().is_some_and(|s| !valid(s)) {
        return Err(invalid(format!("'{text}' is not an attribute path")));
    }
    Ok(AttrPath { uri, name, sub })
}

/// Parses a filter.
pub fn parse(text: &str) -> Result<Filter, ScimError> {
    if text.len() > 4096 {
        return Err(invalid("the filter is longer than 4096 characters"));
    }
    let mut parser = Parser { tokens: tokenize(text)?, at: 0 };
    let filter = parser.or(0)?;
    if parser.at < parser.tokens.len() {
        return Err(invalid("unexpected text after the filter"));
    }
    Ok(filter)
}

/// Looks a member up without regard to case.
pub fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// The object an attribute path starts from: the resource, or the named
/// extension's object.
fn base<'a>(resource: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    match &path.uri {
        None => Some(resource),
        Some(uri) if super::is_core_schema(uri) => Some(resource),
        Some(uri) => member(resource, uri),
    }
}

/// Every value at a path, multi-valued attributes flattened.
fn values_at<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(top) = base(resource, path).and_then(|b| member(b, &path.name)) else { return Vec::new() };
    let items: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    match &path.sub {
        None => items
            .into_iter()
            .flat_map(|item| match item {
                // A complex multi-valued attribute compares by its `value`.
                Value::Object(_) => member(item, "value").into_iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect(),
        Some(sub) => items.into_iter().filter_map(|item| member(item, sub)).collect(),
    }
}

fn case_exact(path: &AttrPath) -> bool {
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    matches!((name.as_str(), sub.as_deref()), ("id", None) | ("externalid", None) | ("meta", Some("version")))
}

fn is_instant(path: &AttrPath) -> bool {
    path.name.eq_ignore_ascii_case("meta")
        && path
            .sub
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("created") || s.eq_ignore_ascii_case("lastModified"))
}

fn compare(found: &Value, op: CompareOp, wanted: &Value, exact: bool, instant: bool) -> bool {
    use std::cmp::Ordering;
    let order = |a: Ordering| match op {
        CompareOp::Gt => a == Ordering::Greater,
        CompareOp::Ge => a != Ordering::Less,
        CompareOp::Lt => a == Ordering::Less,
        CompareOp::Le => a != Ordering::Greater,
        _ => false,
    };
    match (found, wanted) {
        (Value::String(a), Value::String(b)) => {
            if instant && let (Ok(a), Ok(b)) = (OffsetDateTime::parse(a, &Rfc3339), OffsetDateTime::parse(b, &Rfc3339))
            {
                return match op {
                    CompareOp::Eq => a == b,
                    CompareOp::Ne => a != b,
                    _ => order(a.cmp(&b)),
                };
            }
            let (a, b) =
                if exact { (a.clone(), b.clone()) } else { (crate::email::fold_case(a), crate::email::fold_case(b)) };
            match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => order(a.cmp(&b)),
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                _ => a.partial_cmp(&b).is_some_and(order),
            },
            _ => false,
        },
        (found, Value::Null) => match op {
            CompareOp::Eq => found.is_null(),
            CompareOp::Ne => !found.is_null(),
            _ => false,
        },
        _ => op == CompareOp::Ne,
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

/// Whether a resource matches. `case_sensitive` forces exact string
/// comparison everywhere (the `filter-case-sensitive` flaw).
pub fn matches(filter: &Filter, resource: &Value, case_sensitive: bool) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, resource, case_sensitive) && matches(b, resource, case_sensitive),
        Filter::Or(a, b) => matches(a, resource, case_sensitive) || matches(b, resource, case_sensitive),
        Filter::Not(inner) => !matches(inner, resource, case_sensitive),
        Filter::Present(path) => values_at(resource, path).into_iter().any(present),
        Filter::Compare { path, op, value } => {
            let found = values_at(resource, path);
            let exact = case_sensitive || case_exact(path);
            if found.is_empty() {
                // An absent attribute equals null and differs from everything else.
                return match op {
                    CompareOp::Eq => value.is_null(),
                    CompareOp::Ne => !value.is_null(),
                    _ => false,
                };
            }
            if *op == CompareOp::Ne {
                return found.iter().all(|f| compare(f, CompareOp::Ne, value, exact, is_instant(path)));
            }
            found.iter().any(|f| compare(f, *op, value, exact, is_instant(path)))
        }
        Filter::ValuePath { path, filter } => {
            let Some(top) = base(resource, path).and_then(|b| member(b, &path.name)) else { return false };
            match top {
                Value::Array(items) => items.iter().any(|item| matches(filter, item, case_sensitive)),
                other => matches(filter, other, case_sensitive),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "usr_1",
            "userName": "Alice@Acme.test",
            "externalId": "00uABC",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Anderson"},
            "emails": [{"value": "alice@acme.test", "type": "work", "primary": true}, {"value": "a@home.test", "type": "home"}],
            "meta": {"lastModified": "2024-03-29T07:42:22Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engineering"}
        })
    }

    fn test(filter: &str) -> bool {
        matches(&parse(filter).unwrap(), &user(), false)
    }

    #[test]
    fn okta_lookup_ignores_case_of_user_name() {
        assert!(test(r#"userName eq "alice@acme.test""#));
        assert!(test(r#"USERNAME EQ "ALICE@ACME.TEST""#));
        assert!(!matches(&parse(r#"userName eq "alice@acme.test""#).unwrap(), &user(), true));
    }

    #[test]
    fn operators_logic_and_value_paths() {
        assert!(test(r#"emails[type eq "work" and value co "acme"]"#));
        assert!(!test(r#"emails[type eq "other"]"#));
        assert!(test(r#"emails.value eq "A@HOME.TEST""#));
        assert!(test(r#"name.familyName sw "and" and not (active eq false)"#));
        assert!(test(r#"userName ew ".test" or id eq "nope""#));
        assert!(!test(r#"externalId eq "00uabc""#), "externalId is caseExact");
        assert!(test(r#"meta.lastModified gt "2024-01-01T00:00:00Z""#));
        assert!(test(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "engineering""#));
        assert!(!test("title pr"));
        assert!(test("displayName eq null"));
    }

    #[test]
    fn bad_filters_are_invalid_filter_errors() {
        for bad in [
            "",
            "userName",
            "userName eq",
            r#"userName zz "x""#,
            r#"(userName eq "x""#,
            r#"userName eq "x"#,
            "userName eq unquoted",
            r#"userName eq "x" extra"#,
        ] {
            assert!(matches!(parse(bad), Err(ScimError::InvalidFilter(_))), "{bad}");
        }
        let deep = format!("{}userName pr{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// A filter in a small grammar, with its own naive evaluator: an
    /// independent reading of RFC 7644 §3.4.2.2 to check the parser and
    /// evaluator against.
    #[derive(Debug, Clone)]
    enum Naive {
        Eq(&'static str, String),
        Co(&'static str, String),
        Sw(&'static str, String),
        Pr(&'static str),
        Active(bool),
        Not(Box<Naive>),
        And(Box<Naive>, Box<Naive>),
        Or(Box<Naive>, Box<Naive>),
    }

    const ATTRIBUTES: [&str; 3] = ["userName", "displayName", "emails.value"];

    fn values(user: &(String, Option<String>, Vec<String>, bool), attribute: &str) -> Vec<String> {
        match attribute {
            "userName" => vec![user.0.clone()],
            "displayName" => user.1.clone().into_iter().collect(),
            _ => user.2.clone(),
        }
    }

    fn naive(filter: &Naive, user: &(String, Option<String>, Vec<String>, bool)) -> bool {
        let lower = crate::email::fold_case;
        match filter {
            Naive::Eq(a, v) => values(user, a).iter().any(|x| lower(x) == lower(v)),
            Naive::Co(a, v) => values(user, a).iter().any(|x| lower(x).contains(&lower(v))),
            Naive::Sw(a, v) => values(user, a).iter().any(|x| lower(x).starts_with(&lower(v))),
            Naive::Pr(a) => values(user, a).iter().any(|x| !x.is_empty()),
            Naive::Active(v) => user.3 == *v,
            Naive::Not(inner) => !naive(inner, user),
            Naive::And(a, b) => naive(a, user) && naive(b, user),
            Naive::Or(a, b) => naive(a, user) || naive(b, user),
        }
    }

    fn render(filter: &Naive) -> String {
        let quote = |v: &str| serde_json::to_string(v).unwrap_or_default();
        match filter {
            Naive::Eq(a, v) => format!("{a} eq {}", quote(v)),
            Naive::Co(a, v) => format!("{a} co {}", quote(v)),
            Naive::Sw(a, v) => format!("{a} sw {}", quote(v)),
            Naive::Pr(a) => format!("{a} pr"),
            Naive::Active(v) => format!("active eq {v}"),
            Naive::Not(inner) => format!("not ({})", render(inner)),
            Naive::And(a, b) => format!("({}) and ({})", render(a), render(b)),
            Naive::Or(a, b) => format!("({}) or ({})", render(a), render(b)),
        }
    }

    fn leaf() -> impl Strategy<Value = Naive> {
        let attribute = proptest::sample::select(&ATTRIBUTES[..]);
        let text = "[aAbB@.\"\\\\ é]{0,4}";
        prop_oneof![
            (attribute.clone(), text).prop_map(|(a, v)| Naive::Eq(a, v)),
            (attribute.clone(), text).prop_map(|(a, v)| Naive::Co(a, v)),
            (attribute.clone(), text).prop_map(|(a, v)| Naive::Sw(a, v)),
            attribute.prop_map(Naive::Pr),
            any::<bool>().prop_map(Naive::Active),
        ]
    }

    fn filter() -> impl Strategy<Value = Naive> {
        leaf().prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|f| Naive::Not(Box::new(f))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Naive::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Naive::Or(Box::new(a), Box::new(b))),
            ]
        })
    }

    fn user() -> impl Strategy<Value = (String, Option<String>, Vec<String>, bool)> {
        let text = "[aAbB@.\"\\\\ é]{0,5}";
        (text, proptest::option::of(text), proptest::collection::vec(text, 0..3), any::<bool>())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn prop_filter_agrees_with_a_naive_evaluator(filter in filter(), user in user()) {
            let mut resource = json!({"userName": user.0, "active": user.3,
                "emails": user.2.iter().map(|e| json!({"value": e})).collect::<Vec<_>>()});
            if let Some(display) = &user.1 {
                resource["displayName"] = json!(display);
            }
            let parsed = parse(&render(&filter)).map_err(|e| TestCaseError::fail(format!("{e}: {}", render(&filter))))?;
            prop_assert_eq!(matches(&parsed, &resource, false), naive(&filter, &user), "{}", render(&filter));
        }

        #[test]
        fn prop_arbitrary_filter_text_never_panics(text in ".{0,80}") {
            if let Ok(parsed) = parse(&text) {
                let _ = matches(&parsed, &json!({"userName": "x"}), false);
            }
        }
    }
}
