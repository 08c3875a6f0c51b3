//! Inputs for differential testing: call arguments read from examples and tests, mutated
//! (boundaries, 0, ±1, negatives, empty / single / reversed / duplicated collections, empty and
//! non-ASCII strings) or made from type hints, and shrunk Hypothesis-style (integers toward 0,
//! collections shorter, strings shorter) once an input shows a disagreement. Pure: Python literals
//! are parsed and printed here, never evaluated.

/// A Python literal, or an expression kept as written (`Raw`) that is passed through unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Int(i128),
    Float(String),
    Str(String),
    Bool(bool),
    None,
    List(Vec<Lit>),
    Tuple(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
    Raw(String),
}

/// One call's arguments: positional (`None`) or keyword (`Some(name)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Args(pub Vec<(Option<String>, Lit)>);

impl Args {
    /// `f(1, 'a', k=[2])` style source of a call to `name`.
    pub fn call(&self, name: &str) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| match k {
                Some(k) => format!("{k}={}", v.render()),
                None => v.render(),
            })
            .collect();
        format!("{name}({})", parts.join(", "))
    }

    /// Hypothesis-like size: what shrinking makes smaller.
    pub fn size(&self) -> u64 {
        self.0.iter().map(|(_, v)| v.size()).sum()
    }

    fn has_raw(&self) -> bool {
        self.0.iter().any(|(_, v)| v.has_raw())
    }
}

impl Lit {
    pub fn render(&self) -> String {
        match self {
            Lit::Int(n) => n.to_string(),
            Lit::Float(f) => f.clone(),
            Lit::Str(s) => py_repr(s),
            Lit::Bool(b) => if *b { "True" } else { "False" }.into(),
            Lit::None => "None".into(),
            Lit::List(items) => format!("[{}]", items.iter().map(Lit::render).collect::<Vec<_>>().join(", ")),
            Lit::Tuple(items) if items.len() == 1 => format!("({},)", items[0].render()),
            Lit::Tuple(items) => format!("({})", items.iter().map(Lit::render).collect::<Vec<_>>().join(", ")),
            Lit::Dict(items) => format!(
                "{{{}}}",
                items.iter().map(|(k, v)| format!("{}: {}", k.render(), v.render())).collect::<Vec<_>>().join(", ")
            ),
            Lit::Raw(r) => r.clone(),
        }
    }

    fn size(&self) -> u64 {
        match self {
            Lit::Int(n) => n.unsigned_abs().min(1 << 40) as u64 * 2 + u64::from(*n < 0),
            Lit::Float(f) => f.len() as u64,
            Lit::Str(s) => s.chars().map(|c| if c.is_ascii() { 2 } else { 3 }).sum::<u64>() + 1,
            Lit::Bool(b) => u64::from(*b),
            Lit::None => 0,
            Lit::List(items) | Lit::Tuple(items) => 4 + items.iter().map(|i| i.size() + 4).sum::<u64>(),
            Lit::Dict(items) => 4 + items.iter().map(|(k, v)| k.size() + v.size() + 4).sum::<u64>(),
            Lit::Raw(r) => 1000 + r.len() as u64,
        }
    }

    fn has_raw(&self) -> bool {
        match self {
            Lit::Raw(_) => true,
            Lit::List(items) | Lit::Tuple(items) => items.iter().any(Lit::has_raw),
            Lit::Dict(items) => items.iter().any(|(k, v)| k.has_raw() || v.has_raw()),
            _ => false,
        }
    }

    /// Neighbours worth trying: boundaries and the usual suspects.
    fn mutations(&self) -> Vec<Lit> {
        match self {
            Lit::Int(n) => {
                let n = *n;
                let double = n.checked_mul(2).unwrap_or(n);
                vec![
                    Lit::Int(0),
                    Lit::Int(1),
                    Lit::Int(-1),
                    Lit::Int(n + 1),
                    Lit::Int(n - 1),
                    Lit::Int(-n),
                    Lit::Int(double),
                ]
            }
            Lit::Str(s) => {
                let first: String = s.chars().take(1).collect();
                vec![
                    Lit::Str(String::new()),
                    Lit::Str(first),
                    Lit::Str(s.chars().rev().collect()),
                    Lit::Str(s.to_uppercase()),
                    Lit::Str(format!(" {s} ")),
                    Lit::Str(format!("{s}é")),
                    // Characters that change how text is read: a sign, a leading underscore or
                    // zero, the last character once more (an extra closer, a doubled letter).
                    Lit::Str(format!("-{s}")),
                    Lit::Str(format!("_{s}")),
                    Lit::Str(format!("0{s}")),
                    Lit::Str(format!("{s}{}", s.chars().last().map(String::from).unwrap_or_default())),
                ]
            }
            Lit::Bool(b) => vec![Lit::Bool(!b)],
            Lit::List(items) => {
                let mut out = vec![Lit::List(Vec::new())];
                if let Some(first) = items.first() {
                    out.push(Lit::List(vec![first.clone()]));
                    out.push(Lit::List(items.iter().rev().cloned().collect()));
                    out.push(Lit::List(items.iter().chain(items).cloned().collect()));
                    let mut dup = items.clone();
                    dup.insert(0, first.clone());
                    out.push(Lit::List(dup));
                    for m in first.mutations() {
                        let mut changed = items.clone();
                        changed[0] = m;
                        out.push(Lit::List(changed));
                    }
                }
                out
            }
            Lit::Tuple(items) => (0..items.len())
                .flat_map(|i| {
                    items[i].mutations().into_iter().map(move |m| {
                        let mut t = items.clone();
                        t[i] = m;
                        Lit::Tuple(t)
                    })
                })
                .collect(),
            Lit::Dict(items) => {
                let mut out = vec![Lit::Dict(Vec::new())];
                if items.len() > 1 {
                    out.push(Lit::Dict(items[1..].to_vec()));
                    // Insertion order matters to code that iterates.
                    out.push(Lit::Dict(items.iter().rev().cloned().collect()));
                }
                // The first entry's value changed as a value of its own kind would be (0, '',
                // [] ...: falsy values are where `if d[k]` and `d[k] or x` go wrong).
                if let Some((key, value)) = items.first() {
                    for m in value.mutations() {
                        let mut changed = items.clone();
                        changed[0] = (key.clone(), m);
                        out.push(Lit::Dict(changed));
                    }
                }
                out
            }
            Lit::Float(_) | Lit::None | Lit::Raw(_) => Vec::new(),
        }
    }

    /// Smaller versions of this value, smallest first.
    fn shrinks(&self) -> Vec<Lit> {
        match self {
            Lit::Int(n) => {
                let n = *n;
                let mut out = vec![Lit::Int(0), Lit::Int(n / 2), Lit::Int(n - n.signum())];
                if n < 0 {
                    out.push(Lit::Int(-n));
                }
                out
            }
            Lit::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let mut out = vec![Lit::Str(String::new())];
                if chars.len() > 1 {
                    out.push(Lit::Str(chars[..chars.len() / 2].iter().collect()));
                    out.push(Lit::Str(chars[1..].iter().collect()));
                    out.push(Lit::Str(chars[..chars.len() - 1].iter().collect()));
                }
                out.push(Lit::Str(chars.iter().map(|c| if c.is_ascii_lowercase() { 'a' } else { *c }).collect()));
                out
            }
            Lit::Bool(true) => vec![Lit::Bool(false)],
            Lit::List(items) => {
                let mut out = vec![Lit::List(Vec::new())];
                if items.len() > 1 {
                    out.push(Lit::List(items[..items.len() / 2].to_vec()));
                }
                for i in 0..items.len().min(8) {
                    let mut fewer = items.clone();
                    fewer.remove(i);
                    out.push(Lit::List(fewer));
                }
                for i in 0..items.len().min(4) {
                    for s in items[i].shrinks() {
                        let mut smaller = items.clone();
                        smaller[i] = s;
                        out.push(Lit::List(smaller));
                    }
                }
                out
            }
            Lit::Tuple(items) => (0..items.len())
                .flat_map(|i| {
                    items[i].shrinks().into_iter().map(move |s| {
                        let mut t = items.clone();
                        t[i] = s;
                        Lit::Tuple(t)
                    })
                })
                .collect(),
            Lit::Dict(items) => (0..items.len())
                .map(|i| {
                    let mut fewer = items.clone();
                    fewer.remove(i);
                    Lit::Dict(fewer)
                })
                .collect(),
            Lit::Float(_) | Lit::None | Lit::Raw(_) | Lit::Bool(false) => Vec::new(),
        }
    }
}

/// Python's `repr` of a str (single quotes unless the text holds one and no double quote).
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Every call of `name(...)` in `source`, with its arguments parsed (unparsable arguments are kept
/// as `Raw` and passed through as written).
pub fn calls_in(source: &str, name: &str) -> Vec<Args> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(at) = source[from..].find(name).map(|i| i + from) {
        from = at + name.len();
        let before = source[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &source[from..];
        if !rest.starts_with('(') {
            continue;
        }
        // The matching parenthesis, minding strings.
        let (mut depth, mut quote, mut end) = (0usize, None::<u8>, None);
        let mut i = from;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(_) if b == b'\\' => i += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'\'' | b'"' => quote = Some(b),
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                },
            }
            i += 1;
        }
        let Some(end) = end else { continue };
        if let Some(args) = parse_args(&source[from + 1..end]) {
            out.push(args);
        }
    }
    out
}

/// `1, 'a', k=[2]` → arguments; `None` for `*args`/`**kw` forms.
pub fn parse_args(text: &str) -> Option<Args> {
    let mut args = Vec::new();
    for part in split_top(text) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if part.starts_with('*') {
            return None;
        }
        let (key, value) = match keyword(part) {
            Some((k, v)) => (Some(k.to_string()), v),
            None => (None, part),
        };
        let mut p = Parser { s: value.as_bytes(), i: 0, text: value };
        let lit = match p.value() {
            Some(v) if p.done() => v,
            _ => Lit::Raw(value.to_string()),
        };
        args.push((key, lit));
    }
    Some(Args(args))
}

fn keyword(part: &str) -> Option<(&str, &str)> {
    let eq = part.find('=')?;
    let (k, v) = (part[..eq].trim(), &part[eq + 1..]);
    let ident = k.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_alphanumeric() || c == '_');
    (ident && !v.starts_with('=')).then_some((k, v.trim()))
}

/// Splits on commas outside brackets and strings.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }
    fn done(&mut self) -> bool {
        self.ws();
        self.i == self.s.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Option<Lit> {
        self.ws();
        let c = *self.s.get(self.i)?;
        match c {
            b'[' => {
                self.i += 1;
                Some(Lit::List(self.items(b']')?.0))
            }
            b'(' => {
                self.i += 1;
                let (items, trailing) = self.items(b')')?;
                if items.len() == 1 && !trailing { items.into_iter().next() } else { Some(Lit::Tuple(items)) }
            }
            b'{' => {
                self.i += 1;
                let mut pairs = Vec::new();
                loop {
                    if self.eat(b'}') {
                        return Some(Lit::Dict(pairs));
                    }
                    let k = self.value()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value()?;
                    pairs.push((k, v));
                    if !self.eat(b',') {
                        return self.eat(b'}').then_some(Lit::Dict(pairs));
                    }
                }
            }
            b'\'' | b'"' => self.string(),
            b'-' | b'+' | b'0'..=b'9' | b'.' => self.number(),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && ((self.s[self.i] as char).is_alphanumeric() || self.s[self.i] == b'_') {
                    self.i += 1;
                }
                match &self.text[start..self.i] {
                    "True" => Some(Lit::Bool(true)),
                    "False" => Some(Lit::Bool(false)),
                    "None" => Some(Lit::None),
                    _ => None,
                }
            }
        }
    }
    /// Items up to `close`; whether a trailing comma was seen.
    fn items(&mut self, close: u8) -> Option<(Vec<Lit>, bool)> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some((items, true));
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                return self.eat(close).then_some((items, false));
            }
        }
    }
    fn number(&mut self) -> Option<Lit> {
        let start = self.i;
        if matches!(self.s[self.i], b'-' | b'+') {
            self.i += 1;
        }
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'.' | b'_'))
        {
            self.i += 1;
        }
        let t = &self.text[start..self.i];
        if let Ok(n) = t.replace('_', "").parse::<i128>() {
            return Some(Lit::Int(n));
        }
        t.parse::<f64>().ok().map(|_| Lit::Float(t.to_string()))
    }
    fn string(&mut self) -> Option<Lit> {
        let q = self.s[self.i];
        if self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q) {
            return None; // triple-quoted: kept as written
        }
        self.i += 1;
        let mut out = String::new();
        let mut chars = self.text[self.i..].char_indices();
        while let Some((off, c)) = chars.next() {
            match c {
                c if c as u32 == q as u32 => {
                    self.i += off + 1;
                    return Some(Lit::Str(out));
                }
                '\\' => {
                    let (_, e) = chars.next()?;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\\' | '\'' | '"' => out.push(e),
                        'x' | 'u' => {
                            let len = if e == 'x' { 2 } else { 4 };
                            let hex: String = (0..len).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                        }
                        _ => return None,
                    }
                }
                '\n' => return None,
                c => out.push(c),
            }
        }
        None
    }
}

/// Up to `limit` inputs: the seeds themselves, then one-argument mutations of each, deduplicated.
pub fn mutate(seeds: &[Args], limit: usize) -> Vec<Args> {
    let mut out: Vec<Args> = Vec::new();
    let push = |a: Args, out: &mut Vec<Args>| {
        if out.len() < limit && !out.contains(&a) {
            out.push(a);
        }
    };
    for s in seeds {
        push(s.clone(), &mut out);
    }
    for s in seeds {
        for (i, (_, v)) in s.0.iter().enumerate() {
            for m in v.mutations() {
                let mut a = s.clone();
                a.0[i].1 = m;
                push(a, &mut out);
            }
        }
    }
    out
}

/// Smaller inputs than `args`, one argument changed at a time, strictly smaller, smallest first.
pub fn shrink(args: &Args, limit: usize) -> Vec<Args> {
    if args.has_raw() && args.0.iter().all(|(_, v)| v.has_raw()) {
        return Vec::new();
    }
    let size = args.size();
    let mut out: Vec<Args> = Vec::new();
    for (i, (_, v)) in args.0.iter().enumerate() {
        for s in v.shrinks() {
            let mut a = args.clone();
            a.0[i].1 = s;
            if a.size() < size && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out.sort_by_key(Args::size);
    out.truncate(limit);
    out
}

/// Inputs from parameter type hints (`int`, `str`, `bool`, `list[int]`, `list[str]`), when every
/// parameter has one that is understood.
pub fn from_hints(signature: &str) -> Vec<Args> {
    let Some(open) = signature.find('(') else { return Vec::new() };
    let Some(close) = signature.rfind(')') else { return Vec::new() };
    let params = &signature[open + 1..close];
    let mut columns: Vec<Vec<Lit>> = Vec::new();
    for p in split_top(params) {
        let p = p.trim();
        if p.is_empty() || p == "self" || p == "/" || p == "*" {
            continue;
        }
        if p.contains('=') {
            break; // defaults: leave them
        }
        let Some((_, hint)) = p.split_once(':') else { return Vec::new() };
        let values = match hint.trim().replace(' ', "").as_str() {
            "int" => vec![Lit::Int(0), Lit::Int(1), Lit::Int(-1), Lit::Int(2), Lit::Int(7), Lit::Int(-3)],
            "str" => ["", "a", "ab", "Hello world", "aba", "é"].iter().map(|s| Lit::Str(s.to_string())).collect(),
            "bool" => vec![Lit::Bool(false), Lit::Bool(true)],
            "list[int]" | "List[int]" => vec![
                Lit::List(vec![]),
                Lit::List(vec![Lit::Int(1)]),
                Lit::List(vec![Lit::Int(3), Lit::Int(1), Lit::Int(2)]),
                Lit::List(vec![Lit::Int(2), Lit::Int(2)]),
                Lit::List(vec![Lit::Int(-1), Lit::Int(0), Lit::Int(5)]),
            ],
            "list[str]" | "List[str]" => vec![
                Lit::List(vec![]),
                Lit::List(vec![Lit::Str("a".into())]),
                Lit::List(vec![Lit::Str("b".into()), Lit::Str("a".into()), Lit::Str("b".into())]),
            ],
            _ => return Vec::new(),
        };
        columns.push(values);
    }
    if columns.is_empty() {
        return Vec::new();
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    (0..rows).map(|r| Args(columns.iter().map(|c| (None, c[r % c.len()].clone())).collect())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_parse_and_render_back() {
        let src = "assert second([3, 1, 2], key='a\\'b') == 2 and not second(())\nx = resecond(1)";
        let calls = calls_in(src, "second");
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].call("second"), "second([3, 1, 2], key=\"a'b\")");
        assert_eq!(calls[1].call("second"), "second(())");
        let a = parse_args("{'a': (1,), 'b': [None, True]}, -2.5, x + 1").unwrap();
        assert_eq!(a.call("f"), "f({'a': (1,), 'b': [None, True]}, -2.5, x + 1)");
        assert_eq!(parse_args("*xs"), None);
        assert_eq!(py_repr("a\nb\\'\u{1}"), "\"a\\nb\\\\'\\x01\"");
    }

    #[test]
    fn mutations_cover_boundaries() {
        let seeds = vec![parse_args("[3, 1], 'ab', 5").unwrap()];
        let calls: Vec<String> = mutate(&seeds, 100).iter().map(|a| a.call("f")).collect();
        for want in [
            "f([], 'ab', 5)",
            "f([3], 'ab', 5)",
            "f([1, 3], 'ab', 5)",
            "f([3, 1, 3, 1], 'ab', 5)",
            "f([3, 1], '', 5)",
            "f([3, 1], 'ab', 0)",
            "f([3, 1], 'ab', -5)",
            "f([-1, 1], 'ab', 5)",
        ] {
            assert!(calls.contains(&want.to_string()), "{want} not in {calls:?}");
        }
        assert_eq!(mutate(&seeds, 3).len(), 3);
        let dicts = vec![parse_args("{'b': 1, 'a': 2}").unwrap()];
        let calls: Vec<String> = mutate(&dicts, 100).iter().map(|a| a.call("f")).collect();
        for want in ["f({})", "f({'a': 2})", "f({'a': 2, 'b': 1})", "f({'b': 0, 'a': 2})", "f({'b': -1, 'a': 2})"] {
            assert!(calls.contains(&want.to_string()), "{want} not in {calls:?}");
        }
    }

    #[test]
    fn shrinking_reaches_a_known_minimum() {
        // The property "fails when the list holds a number ≥ 10 and has ≥ 2 elements": repeated
        // shrinking from a big input must end at [0, 10] or [10, 0].
        let fails = |a: &Args| match &a.0[0].1 {
            Lit::List(xs) => xs.len() >= 2 && xs.iter().any(|x| matches!(x, Lit::Int(n) if *n >= 10)),
            _ => false,
        };
        let mut current = parse_args("[7, 31, -4, 12, 9]").unwrap();
        assert!(fails(&current));
        while let Some(smaller) = shrink(&current, 50).into_iter().find(fails) {
            current = smaller;
        }
        let shown = current.call("f");
        assert!(shown == "f([0, 10])" || shown == "f([10, 0])", "{shown}");
    }

    #[test]
    fn hints_make_inputs_only_when_every_parameter_is_understood() {
        assert_eq!(from_hints("def f(xs: list[int], k: int) -> int:").len(), 6);
        assert!(from_hints("def f(xs, k: int):").is_empty());
        assert!(from_hints("def f(p: Path):").is_empty());
        assert_eq!(from_hints("def f(s: str)").first().map(|a| a.call("f")), Some("f('')".into()));
    }
}
