//! Okta's `search` expressions on `GET /api/v1/users`: a SCIM-like filter
//! language. The mock understands the part CI scripts use: `eq`, `sw` and
//! `pr` on `id`, `status` and `profile.*` attributes, joined by `and` and
//! `or` (and binding tighter) with parentheses. As at Okta, attribute names
//! are case-sensitive, while operators and string values are not.
//! Anything else is refused with Okta's `E0000031` "Invalid search
//! criteria." and a cause naming what was not understood, so a script
//! learns at once that the mock cannot answer it, instead of getting a
//! wrong list.

use crate::org::User;

use super::OktaApiError;

/// A parsed search expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSearch {
    Compare { attribute: String, operator: Operator, value: String },
    Present { attribute: String },
    And(Box<UserSearch>, Box<UserSearch>),
    Or(Box<UserSearch>, Box<UserSearch>),
}

/// The comparison operators the mock understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equals,
    StartsWith,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

fn refuse(cause: impl Into<String>) -> OktaApiError {
    OktaApiError {
        status: 400,
        code: "E0000031",
        summary: "Invalid search criteria.".into(),
        causes: vec![format!("search: {}", cause.into())],
    }
}

fn tokens(expression: &str) -> Result<Vec<Token>, OktaApiError> {
    let mut found = Vec::new();
    let mut characters = expression.chars().peekable();
    while let Some(&character) = characters.peek() {
        match character {
            ' ' | '\t' | '\n' | '\r' => {
                characters.next();
            }
            '(' => {
                characters.next();
                found.push(Token::Open);
            }
            ')' => {
                characters.next();
                found.push(Token::Close);
            }
            '"' => {
                characters.next();
                let mut text = String::new();
                loop {
                    match characters.next() {
                        None => return Err(refuse("a quoted value is not closed")),
                        Some('"') => break,
                        Some('\\') => match characters.next() {
                            Some(escaped) => text.push(escaped),
                            None => return Err(refuse("a quoted value is not closed")),
                        },
                        Some(other) => text.push(other),
                    }
                }
                found.push(Token::Text(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&next) = characters.peek() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | '"') {
                        break;
                    }
                    word.push(next);
                    characters.next();
                }
                found.push(Token::Word(word));
            }
        }
    }
    Ok(found)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.tokens.get(self.position), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn either(&mut self) -> Result<UserSearch, OktaApiError> {
        let mut left = self.both()?;
        while self.peek_keyword("or") {
            self.position += 1;
            left = UserSearch::Or(Box::new(left), Box::new(self.both()?));
        }
        Ok(left)
    }

    fn both(&mut self) -> Result<UserSearch, OktaApiError> {
        let mut left = self.term()?;
        while self.peek_keyword("and") {
            self.position += 1;
            left = UserSearch::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<UserSearch, OktaApiError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.either()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(refuse("a parenthesis is not closed")),
                }
            }
            Some(Token::Word(attribute)) => {
                check_attribute(&attribute)?;
                let operator = match self.next() {
                    Some(Token::Word(operator)) => operator.to_ascii_lowercase(),
                    _ => return Err(refuse(format!("an operator must follow '{attribute}'"))),
                };
                let operator = match operator.as_str() {
                    "pr" => return Ok(UserSearch::Present { attribute }),
                    "eq" => Operator::Equals,
                    "sw" => Operator::StartsWith,
                    other => {
                        return Err(refuse(format!("the operator '{other}' is not supported by mockta (eq, sw, pr)")));
                    }
                };
                let value = match self.next() {
                    Some(Token::Text(value)) => value,
                    Some(Token::Word(word)) if matches!(word.as_str(), "true" | "false") => word,
                    _ => return Err(refuse(format!("'{attribute}' must be compared with a quoted value"))),
                };
                Ok(UserSearch::Compare { attribute, operator, value })
            }
            Some(Token::Close) => Err(refuse("a closing parenthesis has no opening one")),
            Some(Token::Text(text)) => Err(refuse(format!("the value \"{text}\" has no attribute"))),
            None => Err(refuse("the expression ends too early")),
        }
    }
}

/// The attributes the mock can search: `id`, `status` and any
/// `profile.{name}`.
fn check_attribute(attribute: &str) -> Result<(), OktaApiError> {
    let known =
        matches!(attribute, "id" | "status") || attribute.strip_prefix("profile.").is_some_and(|name| !name.is_empty());
    if known {
        Ok(())
    } else {
        Err(refuse(format!("the attribute '{attribute}' is not supported by mockta (id, status, profile.*)")))
    }
}

impl UserSearch {
    /// Parses an expression, or refuses it with `E0000031`.
    pub fn parse(expression: &str) -> Result<UserSearch, OktaApiError> {
        let mut parser = Parser { tokens: tokens(expression)?, position: 0 };
        let search = parser.either()?;
        match parser.next() {
            None => Ok(search),
            Some(_) => Err(refuse("unexpected text after the expression")),
        }
    }

    /// Whether `user` matches; string values compare case-insensitively.
    pub fn matches(&self, user: &User) -> bool {
        match self {
            UserSearch::And(left, right) => left.matches(user) && right.matches(user),
            UserSearch::Or(left, right) => left.matches(user) || right.matches(user),
            UserSearch::Present { attribute } => value_of(user, attribute).is_some_and(|v| !v.is_empty()),
            UserSearch::Compare { attribute, operator, value } => {
                let Some(actual) = value_of(user, attribute) else { return false };
                let (actual, value) = (actual.to_lowercase(), value.to_lowercase());
                match operator {
                    Operator::Equals => actual == value,
                    Operator::StartsWith => actual.starts_with(&value),
                }
            }
        }
    }
}

/// A user's attribute as text; `None` when the user has no such value.
fn value_of(user: &User, attribute: &str) -> Option<String> {
    let profile = &user.profile;
    match attribute {
        "id" => Some(user.id.as_str().to_owned()),
        "status" => Some(user.status.as_str().to_owned()),
        "profile.login" => Some(profile.login.clone()),
        "profile.email" => Some(profile.email.clone()),
        "profile.firstName" => Some(profile.first_name.clone()),
        "profile.lastName" => Some(profile.last_name.clone()),
        other => {
            let name = other.strip_prefix("profile.")?;
            match profile.extra.get(name)? {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Null => None,
                value => Some(value.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_binds_tighter_than_or() {
        let search = UserSearch::parse(r#"status eq "ACTIVE" or id eq "a" AND profile.login sw "b""#).unwrap();
        assert!(matches!(search, UserSearch::Or(_, ref right) if matches!(**right, UserSearch::And(_, _))));
    }

    #[test]
    fn unsupported_expressions_are_refused_with_e0000031() {
        for expression in [
            r#"lastUpdated gt "2020-01-01T00:00:00.000Z""#,
            r#"profile.login co "a""#,
            r#"(status eq "ACTIVE""#,
            r#"status eq ACTIVE"#,
            r#"status eq "ACTIVE" and"#,
            r#"status eq "ACTIVE")"#,
            "",
        ] {
            let error = UserSearch::parse(expression).unwrap_err();
            assert_eq!((error.status, error.code), (400, "E0000031"), "{expression}");
            assert_eq!(error.summary, "Invalid search criteria.");
        }
    }
}
