//! Exclusive XML canonicalisation of XML this crate rendered itself, without
//! libxml2.
//!
//! Responses are rendered by us in a narrow subset of XML: the one
//! declaration Okta writes, then prefixed elements with double-quoted
//! attributes and text, and no comments, processing instructions, CDATA,
//! DTD or default namespace. For text in that subset, the exclusive
//! canonical form of an element (what xmlsec digests and signs) follows from
//! the text alone, so it can be written here in one pass instead of parsing
//! the response into libxml2 and canonicalising it there, twice per
//! signature. [`RenderedDocument::parse`] returns `None` for anything
//! outside the subset, or that libxml2 would refuse or repair (its parser
//! runs in recovery mode), and the caller then signs through libxmlsec1 as
//! before. The tests prove the forms equal to libxml2's exclusive c14n.
//!
//! What the parser does to the text before canonicalisation is modelled as
//! XML 1.0 says: line ends become `\n`; in attribute values, literal
//! whitespace becomes a space; the five predefined entities and character
//! references are replaced.

use std::borrow::Cow;
use std::ops::Range;

use super::response::XML_DECLARATION;

/// The largest text the own canonicaliser takes. libxml2 refuses some very
/// large nodes without its `huge` option; responses are a few kilobytes, so
/// anything this large is left to libxml2 to decide.
const LARGEST_TEXT: usize = 1 << 20;

/// A rendered document, split into elements, end tags and text.
#[derive(Debug)]
pub struct RenderedDocument<'a> {
    text: &'a str,
    nodes: Vec<Node<'a>>,
    /// Every element's namespace declarations and attributes, in one list
    /// each (an element holds its range), so that parsing allocates little.
    namespaces: Vec<(&'a str, &'a str)>,
    attributes: Vec<Attribute<'a>>,
}

#[derive(Debug)]
enum Node<'a> {
    Start(Element<'a>),
    End { qualified_name: &'a str },
    Text(Cow<'a, str>),
}

#[derive(Debug)]
struct Element<'a> {
    qualified_name: &'a str,
    prefix: &'a str,
    local_name: &'a str,
    /// The URI of the element's prefix, resolved once when parsed.
    namespace_uri: &'a str,
    /// The namespaces declared on this element (prefix and URI), as a
    /// range of the document's list.
    namespaces: Range<usize>,
    /// The element's attributes, as a range of the document's list.
    attributes: Range<usize>,
    parent: Option<usize>,
    /// The index of this element's `End` node.
    end: usize,
    /// The element's bytes in the text, start tag to end tag.
    span: Range<usize>,
    /// Where the element's content starts in the text (after the start tag).
    content_start: usize,
}

#[derive(Debug)]
struct Attribute<'a> {
    qualified_name: &'a str,
    /// `None` for an attribute without a prefix (in no namespace).
    prefix: Option<&'a str>,
    local_name: &'a str,
    /// The URI of the attribute's prefix, resolved once when parsed; empty
    /// for an attribute without a prefix.
    namespace_uri: &'a str,
    value: Cow<'a, str>,
}

/// An element of a parsed document, by its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementRef(usize);

impl ElementRef {
    /// Whether this element starts before `other` in the document.
    pub fn precedes(self, other: ElementRef) -> bool {
        self.0 < other.0
    }
}

impl<'a> RenderedDocument<'a> {
    /// Splits `text` into nodes; `None` when the text is outside the subset
    /// described in the module documentation.
    pub fn parse(text: &'a str) -> Option<Self> {
        if text.len() > LARGEST_TEXT || !text.starts_with(XML_DECLARATION) {
            return None;
        }
        let bytes = text.as_bytes();
        let mut nodes: Vec<Node<'a>> = Vec::with_capacity(256);
        let mut namespaces: Vec<(&'a str, &'a str)> = Vec::with_capacity(64);
        let mut attributes: Vec<Attribute<'a>> = Vec::with_capacity(128);
        let mut open: Vec<usize> = Vec::with_capacity(16);
        let mut position = XML_DECLARATION.len();
        let mut root_closed = false;
        while position < text.len() {
            if root_closed {
                return None;
            }
            if bytes[position] != b'<' {
                // Text outside the root, even whitespace, is left to libxml2.
                open.last()?;
                let end = text[position..].find('<').map_or(text.len(), |at| position + at);
                nodes.push(Node::Text(decode_text(&text[position..end])?));
                position = end;
                continue;
            }
            match bytes.get(position + 1) {
                Some(b'/') => {
                    let name_end = position + 2 + text[position + 2..].find('>')?;
                    let qualified_name = &text[position + 2..name_end];
                    let start = open.pop()?;
                    let index = nodes.len();
                    match nodes.get_mut(start) {
                        Some(Node::Start(element)) if element.qualified_name == qualified_name => {
                            element.end = index;
                            element.span.end = name_end + 1;
                        }
                        _ => return None,
                    }
                    nodes.push(Node::End { qualified_name });
                    position = name_end + 1;
                    root_closed = open.is_empty();
                }
                Some(b'!' | b'?') | None => return None,
                Some(_) => {
                    let index = nodes.len();
                    let (element, self_closed, after) =
                        parse_start_tag(text, position, open.last().copied(), &mut namespaces, &mut attributes)?;
                    nodes.push(Node::Start(element));
                    if self_closed {
                        let qualified_name = match nodes.get_mut(index) {
                            Some(Node::Start(element)) => {
                                element.end = index + 1;
                                element.span.end = after;
                                element.qualified_name
                            }
                            _ => return None,
                        };
                        nodes.push(Node::End { qualified_name });
                        root_closed = open.is_empty();
                    } else {
                        open.push(index);
                    }
                    position = after;
                }
            }
        }
        if !root_closed {
            return None;
        }
        let mut document = RenderedDocument { text, nodes, namespaces, attributes };
        document.resolve_namespaces().then_some(document)
    }

    /// Resolves every element's and prefixed attribute's prefix, once;
    /// `false` when one is not declared, or when an element has two
    /// attributes of the same expanded name.
    fn resolve_namespaces(&mut self) -> bool {
        for index in 0..self.nodes.len() {
            let Node::Start(element) = &self.nodes[index] else { continue };
            let (prefix, attributes) = (element.prefix, element.attributes.clone());
            let Some(uri) = self.namespace_in_scope(index, prefix) else { return false };
            for at in attributes.clone() {
                let uri = match self.attributes[at].prefix {
                    Some(prefix) => match self.namespace_in_scope(index, prefix) {
                        Some(uri) => uri,
                        None => return false,
                    },
                    None => "",
                };
                self.attributes[at].namespace_uri = uri;
            }
            let own = &self.attributes[attributes];
            for (position, attribute) in own.iter().enumerate() {
                if own[..position].iter().any(|earlier| {
                    (earlier.namespace_uri, earlier.local_name) == (attribute.namespace_uri, attribute.local_name)
                }) {
                    return false;
                }
            }
            if let Node::Start(element) = &mut self.nodes[index] {
                element.namespace_uri = uri;
            }
        }
        true
    }

    /// The URI `prefix` has at the element `index`, from its own
    /// declarations or its ancestors'.
    fn namespace_in_scope(&self, index: usize, prefix: &str) -> Option<&'a str> {
        let mut current = Some(index);
        while let Some(at) = current {
            let Node::Start(element) = &self.nodes[at] else { return None };
            if let Some((_, uri)) =
                self.namespaces[element.namespaces.clone()].iter().find(|(declared, _)| *declared == prefix)
            {
                return Some(uri);
            }
            current = element.parent;
        }
        None
    }

    fn element(&self, element: ElementRef) -> Option<&Element<'a>> {
        match self.nodes.get(element.0) {
            Some(Node::Start(found)) => Some(found),
            _ => None,
        }
    }

    /// The root element.
    pub fn root(&self) -> ElementRef {
        ElementRef(0)
    }

    /// The element's namespace URI and local name.
    pub fn name(&self, element: ElementRef) -> Option<(&'a str, &'a str)> {
        let found = self.element(element)?;
        Some((found.namespace_uri, found.local_name))
    }

    /// The value of the element's attribute `name` (without a prefix).
    pub fn attribute(&self, element: ElementRef, name: &str) -> Option<&str> {
        self.attributes[self.element(element)?.attributes.clone()]
            .iter()
            .find(|attribute| attribute.prefix.is_none() && attribute.local_name == name)
            .map(|attribute| attribute.value.as_ref())
    }

    /// The element's child elements, in document order.
    pub fn children(&self, element: ElementRef) -> Vec<ElementRef> {
        let Some(parent) = self.element(element) else { return Vec::new() };
        let mut children = Vec::new();
        let mut index = element.0 + 1;
        while index < parent.end {
            match &self.nodes[index] {
                Node::Start(child) => {
                    children.push(ElementRef(index));
                    index = child.end + 1;
                }
                _ => index += 1,
            }
        }
        children
    }

    /// Every element of the document, in document order.
    pub fn elements(&self) -> Vec<ElementRef> {
        (0..self.nodes.len()).filter(|index| matches!(self.nodes[*index], Node::Start(_))).map(ElementRef).collect()
    }

    /// The element's text in the document, start tag to end tag.
    pub fn source(&self, element: ElementRef) -> Option<&'a str> {
        self.text.get(self.element(element)?.span.clone())
    }

    /// Where the element's content starts in the text.
    pub fn content_start(&self, element: ElementRef) -> Option<usize> {
        Some(self.element(element)?.content_start)
    }

    /// Whether the element has no content at all (`<a></a>` or `<a/>`).
    pub fn is_empty(&self, element: ElementRef) -> bool {
        self.element(element).is_some_and(|found| found.end == element.0 + 1)
    }

    /// The exclusive canonical form (Exclusive XML Canonicalization 1.0,
    /// without comments) of `apex` and its descendants, leaving out the
    /// subtree of `excluded` (the enveloped-signature transform), with
    /// `inclusive_prefixes` as the InclusiveNamespaces PrefixList. Each of
    /// `fills` is text given to an empty element, as if it were there (a
    /// DigestValue or SignatureValue not yet written into the text).
    pub fn exclusive_canonical_form(
        &self,
        apex: ElementRef,
        excluded: Option<ElementRef>,
        inclusive_prefixes: &[&str],
        fills: &[(ElementRef, &str)],
    ) -> Option<String> {
        let last = self.element(apex)?.end;
        let mut out = String::with_capacity(self.text.len());
        // The namespaces rendered by output ancestors, innermost last, and
        // where each open element's own entries start.
        let mut rendered: Vec<(&str, &str)> = Vec::with_capacity(16);
        let mut marks: Vec<usize> = Vec::with_capacity(16);
        // Scratch lists, reused for every element.
        let mut emitted: Vec<(&str, &str)> = Vec::with_capacity(4);
        let mut sorted: Vec<&Attribute<'a>> = Vec::with_capacity(8);
        let mut index = apex.0;
        while index <= last {
            if excluded.is_some_and(|skip| skip.0 == index) {
                index = self.element(ElementRef(index))?.end + 1;
                continue;
            }
            match &self.nodes[index] {
                Node::Start(element) => {
                    marks.push(rendered.len());
                    emitted.clear();
                    for prefix in inclusive_prefixes {
                        if let Some((declared, uri)) = self.declaration_in_scope(index, prefix) {
                            note_namespace(declared, uri, &mut rendered, &mut emitted);
                        }
                    }
                    note_namespace(element.prefix, element.namespace_uri, &mut rendered, &mut emitted);
                    let own_attributes = &self.attributes[element.attributes.clone()];
                    for attribute in own_attributes {
                        if let Some(prefix) = attribute.prefix {
                            note_namespace(prefix, attribute.namespace_uri, &mut rendered, &mut emitted);
                        }
                    }
                    emitted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    out.push('<');
                    out.push_str(element.qualified_name);
                    for (prefix, uri) in &emitted {
                        out.push_str(" xmlns:");
                        out.push_str(prefix);
                        out.push_str("=\"");
                        out.push_str(uri);
                        out.push('"');
                    }
                    sorted.clear();
                    sorted.extend(own_attributes);
                    sorted
                        .sort_unstable_by(|a, b| (a.namespace_uri, a.local_name).cmp(&(b.namespace_uri, b.local_name)));
                    for attribute in &sorted {
                        out.push(' ');
                        out.push_str(attribute.qualified_name);
                        out.push_str("=\"");
                        escape_attribute_into(&mut out, &attribute.value);
                        out.push('"');
                    }
                    out.push('>');
                    if let Some((_, fill)) = fills.iter().find(|(target, _)| target.0 == index) {
                        escape_text_into(&mut out, fill);
                    }
                }
                Node::End { qualified_name } => {
                    out.push_str("</");
                    out.push_str(qualified_name);
                    out.push('>');
                    rendered.truncate(marks.pop()?);
                }
                Node::Text(text) => escape_text_into(&mut out, text),
            }
            index += 1;
        }
        Some(out)
    }

    /// The declaration of `prefix` in scope at the element `index` (the
    /// prefix as declared, and its URI), if there is one.
    fn declaration_in_scope(&self, index: usize, prefix: &str) -> Option<(&'a str, &'a str)> {
        let mut current = Some(index);
        while let Some(at) = current {
            let Node::Start(element) = &self.nodes[at] else { return None };
            if let Some(found) =
                self.namespaces[element.namespaces.clone()].iter().find(|(declared, _)| *declared == prefix)
            {
                return Some(*found);
            }
            current = element.parent;
        }
        None
    }
}

/// Exclusive c14n's rule for one visibly used (or PrefixList) namespace of
/// an element: it is emitted unless the nearest output ancestor rendered
/// the same prefix with the same URI, and it is rendered from here on.
fn note_namespace<'a>(
    prefix: &'a str,
    uri: &'a str,
    rendered: &mut Vec<(&'a str, &'a str)>,
    emitted: &mut Vec<(&'a str, &'a str)>,
) {
    let already = rendered.iter().rev().find(|(seen, _)| *seen == prefix).map(|(_, seen)| *seen);
    rendered.push((prefix, uri));
    if already != Some(uri) && !emitted.iter().any(|(seen, _)| *seen == prefix) {
        emitted.push((prefix, uri));
    }
}

/// Reads the start tag at `start`: the element, whether it closes itself,
/// and where the tag ends.
fn parse_start_tag<'a>(
    text: &'a str,
    start: usize,
    parent: Option<usize>,
    namespaces: &mut Vec<(&'a str, &'a str)>,
    attributes: &mut Vec<Attribute<'a>>,
) -> Option<(Element<'a>, bool, usize)> {
    let bytes = text.as_bytes();
    let mut position = start + 1;
    let qualified_name = read_name(text, position)?;
    position += qualified_name.len();
    let (prefix, local_name) = qualified_name.split_once(':')?;
    if prefix == "xml" || prefix == "xmlns" {
        return None;
    }
    let namespaces_start = namespaces.len();
    let attributes_start = attributes.len();
    loop {
        match bytes.get(position)? {
            b'>' => {
                position += 1;
                let element = Element {
                    qualified_name,
                    prefix,
                    local_name,
                    namespace_uri: "",
                    namespaces: namespaces_start..namespaces.len(),
                    attributes: attributes_start..attributes.len(),
                    parent,
                    end: 0,
                    span: start..position,
                    content_start: position,
                };
                return Some((element, false, position));
            }
            b'/' if bytes.get(position + 1) == Some(&b'>') => {
                position += 2;
                let element = Element {
                    qualified_name,
                    prefix,
                    local_name,
                    namespace_uri: "",
                    namespaces: namespaces_start..namespaces.len(),
                    attributes: attributes_start..attributes.len(),
                    parent,
                    end: 0,
                    span: start..position,
                    content_start: position,
                };
                return Some((element, true, position));
            }
            b' ' => {
                while bytes.get(position) == Some(&b' ') {
                    position += 1;
                }
                if matches!(bytes.get(position), Some(b'>' | b'/')) {
                    continue;
                }
                let name = read_name(text, position)?;
                position += name.len();
                if bytes.get(position) != Some(&b'=') || bytes.get(position + 1) != Some(&b'"') {
                    return None;
                }
                position += 2;
                let value_end = position + text[position..].find('"')?;
                let raw = &text[position..value_end];
                position = value_end + 1;
                // Another attribute must be separated by whitespace.
                if !matches!(bytes.get(position), Some(b' ' | b'>' | b'/')) {
                    return None;
                }
                if name == "xmlns" {
                    // A default namespace is outside the subset.
                    return None;
                }
                if let Some(declared) = name.strip_prefix("xmlns:") {
                    if declared == "xml"
                        || declared == "xmlns"
                        || !is_plain_namespace_uri(raw)
                        || namespaces[namespaces_start..].iter().any(|(seen, _)| *seen == declared)
                    {
                        return None;
                    }
                    namespaces.push((declared, raw));
                    continue;
                }
                let (prefix, local_name) = match name.split_once(':') {
                    Some((prefix, local)) => (Some(prefix), local),
                    None => (None, name),
                };
                if prefix == Some("xml")
                    || attributes[attributes_start..].iter().any(|seen| seen.qualified_name == name)
                {
                    return None;
                }
                attributes.push(Attribute {
                    qualified_name: name,
                    prefix,
                    local_name,
                    namespace_uri: "",
                    value: decode_attribute(raw)?,
                });
            }
            _ => return None,
        }
    }
}

/// An ASCII name at `start`, with at most one colon between two non-empty
/// parts. Names outside this (non-ASCII ones included) are left to libxml2.
fn read_name(text: &str, start: usize) -> Option<&str> {
    let rest = text.get(start..)?;
    let length = rest
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':')))
        .unwrap_or(rest.len());
    let name = &rest[..length];
    let well_formed_part =
        |part: &str| part.bytes().next().is_some_and(|first| first.is_ascii_alphabetic() || first == b'_');
    let mut parts = name.split(':');
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() || !well_formed_part(first) || second.is_some_and(|part| !well_formed_part(part)) {
        return None;
    }
    Some(name)
}

/// Namespace URIs this crate writes: absolute, and with no character that
/// libxml2 would quote differently when it prints them.
fn is_plain_namespace_uri(uri: &str) -> bool {
    uri.contains(':')
        && uri.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'.' | b'-' | b'_' | b'#'))
}

/// Whether XML 1.0 allows the character in a document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The character an entity or character reference (the text after `&` up
/// to and without `;`) stands for.
fn reference(name: &str) -> Option<char> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                Some(_) => return None,
                None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => number.parse().ok()?,
                None => return None,
            };
            char::from_u32(code)?
        }
    };
    is_xml_char(c).then_some(c)
}

/// Text content as the parser gives it: references replaced, line ends
/// made `\n`. `None` where libxml2 would report an error.
fn decode_text(raw: &str) -> Option<Cow<'_, str>> {
    // Most text is printable ASCII, which needs no decoding; bytes are
    // checked rather than characters because this runs on every response.
    if raw.bytes().all(|b| matches!(b, b'\n' | b'\t' | 0x20..=0x7e) && b != b'&' && b != b']') {
        return Some(Cow::Borrowed(raw));
    }
    if raw.contains("]]>") {
        return None;
    }
    if !raw.bytes().any(|b| b == b'&' || b == b'\r') {
        return raw.chars().all(is_xml_char).then_some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => {
                let end = rest.find(';')?;
                out.push(reference(&rest[1..end])?);
                rest = &rest[end + 1..];
                continue;
            }
            '\r' => {
                out.push('\n');
                if rest[1..].starts_with('\n') {
                    rest = &rest[1..];
                }
            }
            c if is_xml_char(c) => out.push(c),
            _ => return None,
        }
        rest = &rest[c.len_utf8()..];
    }
    Some(Cow::Owned(out))
}

/// An attribute value as the parser gives it (no DTD, so every attribute is
/// CDATA): references replaced, literal whitespace made a space (a `\r\n`
/// pair one space).
fn decode_attribute(raw: &str) -> Option<Cow<'_, str>> {
    if raw.bytes().all(|b| matches!(b, 0x20..=0x7e) && b != b'&' && b != b'<') {
        return Some(Cow::Borrowed(raw));
    }
    if raw.contains('<') {
        return None;
    }
    if !raw.bytes().any(|b| matches!(b, b'&' | b'\r' | b'\n' | b'\t')) {
        return raw.chars().all(is_xml_char).then_some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => {
                let end = rest.find(';')?;
                out.push(reference(&rest[1..end])?);
                rest = &rest[end + 1..];
                continue;
            }
            '\r' => {
                out.push(' ');
                if rest[1..].starts_with('\n') {
                    rest = &rest[1..];
                }
            }
            '\n' | '\t' => out.push(' '),
            c if is_xml_char(c) => out.push(c),
            _ => return None,
        }
        rest = &rest[c.len_utf8()..];
    }
    Some(Cow::Owned(out))
}

/// Text as canonical XML writes it.
fn escape_text_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.bytes().position(|b| matches!(b, b'&' | b'<' | b'>' | b'\r')) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&#xD;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// An attribute value as canonical XML writes it.
fn escape_attribute_into(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(at) = rest.bytes().position(|b| matches!(b, b'&' | b'<' | b'"' | b'\t' | b'\n' | b'\r')) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'"' => "&quot;",
            b'\t' => "&#x9;",
            b'\n' => "&#xA;",
            _ => "&#xD;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(body: &str) -> String {
        format!("{XML_DECLARATION}{body}")
    }

    #[test]
    fn namespaces_are_rendered_where_first_used_and_attributes_sorted() {
        let text = document(
            "<p:R b=\"2\" a=\"1\" xmlns:p=\"urn:p\" xmlns:x=\"urn:x\" xmlns:q=\"urn:q\"><q:C q:z=\"&amp;&gt;\" xmlns:q=\"urn:q\"><p:D/></q:C></p:R>",
        );
        let parsed = RenderedDocument::parse(&text).unwrap();
        let whole = parsed.exclusive_canonical_form(parsed.root(), None, &["x"], &[]).unwrap();
        assert_eq!(
            whole,
            "<p:R xmlns:p=\"urn:p\" xmlns:x=\"urn:x\" a=\"1\" b=\"2\"><q:C xmlns:q=\"urn:q\" q:z=\"&amp;>\"><p:D></p:D></q:C></p:R>"
        );
        let child = parsed.children(parsed.root())[0];
        let part = parsed.exclusive_canonical_form(child, None, &["x"], &[]).unwrap();
        assert_eq!(part, "<q:C xmlns:q=\"urn:q\" xmlns:x=\"urn:x\" q:z=\"&amp;>\"><p:D xmlns:p=\"urn:p\"></p:D></q:C>");
    }

    #[test]
    fn text_and_attributes_are_normalised_as_the_parser_does() {
        let text = document("<p:R a=\"x\r\ny\tz\" xmlns:p=\"urn:p\">a\r\nb\rc&#13;&quot;'&#x3e;</p:R>");
        let parsed = RenderedDocument::parse(&text).unwrap();
        let form = parsed.exclusive_canonical_form(parsed.root(), None, &[], &[]).unwrap();
        assert_eq!(form, "<p:R xmlns:p=\"urn:p\" a=\"x y z\">a\nb\nc&#xD;\"'&gt;</p:R>");
    }

    #[test]
    fn excluded_subtree_and_fills() {
        let text = document("<p:R xmlns:p=\"urn:p\"><p:S><p:T/></p:S><p:V></p:V></p:R>");
        let parsed = RenderedDocument::parse(&text).unwrap();
        let children = parsed.children(parsed.root());
        let form =
            parsed.exclusive_canonical_form(parsed.root(), Some(children[0]), &[], &[(children[1], "a+b=")]).unwrap();
        assert_eq!(form, "<p:R xmlns:p=\"urn:p\"><p:V>a+b=</p:V></p:R>");
    }

    #[test]
    fn text_outside_the_subset_is_left_to_libxml2() {
        for body in [
            "<R/>",
            "<p:R xmlns=\"urn:d\" xmlns:p=\"urn:p\"/>",
            "<p:R xmlns:p=\"urn:p\"><!-- c --></p:R>",
            "<p:R xmlns:p=\"urn:p\"><![CDATA[x]]></p:R>",
            "<p:R xmlns:p=\"urn:p\">]]></p:R>",
            "<p:R xmlns:p=\"urn:p\">&nbsp;</p:R>",
            "<p:R xmlns:p=\"urn:p\">&#0;</p:R>",
            "<p:R xmlns:p=\"urn:p\">\u{1}</p:R>",
            "<p:R a=\"1\" a=\"2\" xmlns:p=\"urn:p\"/>",
            "<p:R q:a=\"1\" p:a=\"2\" xmlns:p=\"urn:p\" xmlns:q=\"urn:p\"/>",
            "<p:R a=\"<\" xmlns:p=\"urn:p\"/>",
            "<p:R xmlns:p=\"urn:p\"><q:C/></p:R>",
            "<p:R xmlns:p=\"urn:p\"></p:S>",
            "<p:R xmlns:p=\"urn:p\"/> ",
            "<p:R xmlns:p=\"urn:p\"/><p:R xmlns:p=\"urn:p\"/>",
            "<p:R a=\"1\"b=\"2\" xmlns:p=\"urn:p\"/>",
            "<p:R a='1' xmlns:p=\"urn:p\"/>",
        ] {
            assert!(RenderedDocument::parse(&document(body)).is_none(), "{body}");
        }
        assert!(RenderedDocument::parse("<p:R xmlns:p=\"urn:p\"/>").is_none(), "no declaration");
    }
}
