//! The one check every free text goes through — names, labels, tenant and site names, trunk
//! names, announcements, speed-dial labels, e-mail addresses, PBX option texts — before it is
//! stored: text ends up in phones' files, CSV exports and admins' terminals, where a line break,
//! an invisible name or a noncharacter does harm.

use crate::error::Error;

/// Trims surrounding white space (Unicode's, which includes the line and paragraph separators
/// and NEL, so at the ends they are stripped), then refuses, naming `field`:
///
/// - control characters (Cc: C0, DEL, C1 including U+0085 NEL): a newline would add a line to a
///   key=value file;
/// - the line and paragraph separators (Zl U+2028, Zp U+2029), which many viewers and phones
///   break lines at;
/// - noncharacters (U+FDD0..U+FDEF and the last two code points of every plane, U+xFFFE and
///   U+xFFFF), which are not for interchange;
/// - text with nothing visible: only zero-width characters (U+200B..U+200D, U+2060, U+FEFF and
///   a few other invisible format characters) and spaces.
///
/// An empty text is the caller's to refuse or accept (some fields may be cleared).
pub fn check_text<'a>(field: &'static str, input: &'a str) -> Result<&'a str, Error> {
    let value = input.trim();
    if let Some(c) = value.chars().find(|&c| forbidden(c).is_some()) {
        let what = forbidden(c).unwrap_or_default();
        return Err(Error::invalid(
            field,
            format!(
                "{value:?} contains {what} (U+{:04X}), which is not allowed in text",
                u32::from(c)
            ),
        )
        .coded(
            "text_forbidden_char",
            [
                ("value", format!("{value:?}")),
                ("code_point", format!("U+{:04X}", u32::from(c))),
            ],
        ));
    }
    if !value.is_empty() && value.chars().all(|c| invisible(c) || c.is_whitespace()) {
        return Err(
            Error::invalid(field, format!("{value:?} has no visible characters"))
                .coded("text_invisible", [("value", format!("{value:?}"))]),
        );
    }
    Ok(value)
}

/// [`check_text`], then 1 to `max` characters (counted in characters, not bytes).
pub fn parse_text(field: &'static str, input: &str, max: usize) -> Result<String, Error> {
    let value = check_text(field, input)?;
    let n_chars = value.chars().count();
    if n_chars == 0 {
        return Err(Error::invalid(field, "must not be empty").coded("text_empty", []));
    }
    if n_chars > max {
        return Err(Error::invalid(
            field,
            format!("{value:?} has {n_chars} characters; at most {max} are allowed"),
        )
        .coded(
            "text_too_long",
            [
                ("value", format!("{value:?}")),
                ("count", n_chars.to_string()),
                ("max", max.to_string()),
            ],
        ));
    }
    Ok(value.to_owned())
}

/// What kind of character `c` is, if text may not hold it anywhere.
fn forbidden(c: char) -> Option<&'static str> {
    let n = u32::from(c);
    if c.is_control() {
        Some("a control character")
    } else if c == '\u{2028}' {
        Some("a line separator")
    } else if c == '\u{2029}' {
        Some("a paragraph separator")
    } else if (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE {
        Some("a noncharacter")
    } else {
        None
    }
}

/// Characters that take no room and show nothing: allowed between visible ones (a ZWJ joins
/// emoji, a ZWNJ shapes Persian), but not on their own.
pub(super) fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}'..='\u{200D}' // zero width space, non-joiner, joiner
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{FEFF}' // zero width no-break space (BOM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn refused(input: &str, says: &str) {
        let err = check_text("first_name", input).unwrap_err().to_string();
        assert!(
            err.starts_with("first_name") && err.contains(says),
            "{input:?}: {err}"
        );
    }

    #[test]
    fn separators_controls_and_noncharacters_are_refused_anywhere_inside() {
        refused("A\u{2028}da", "line separator (U+2028)");
        refused("A\u{2029}da", "paragraph separator (U+2029)");
        refused("A\u{85}da", "control character (U+0085)");
        refused("A\nda", "control character (U+000A)");
        refused("A\u{7f}da", "control character");
        for c in [
            '\u{FDD0}',
            '\u{FDEF}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1FFFE}',
            '\u{10FFFF}',
        ] {
            refused(&format!("A{c}da"), "noncharacter");
        }
        // At the ends, white space (separators included) is stripped.
        assert_eq!(check_text("f", "\u{2028} Ada \u{85}").unwrap(), "Ada");
    }

    #[test]
    fn invisible_only_is_refused_but_joiners_between_letters_pass() {
        for bad in [
            "\u{200B}",
            "\u{200C}\u{200D}",
            "\u{2060}",
            "\u{FEFF}",
            " \u{200B} ",
        ] {
            refused(bad, "no visible characters");
        }
        for ok in [
            "Ada",
            "Zo\u{200D}e",
            "\u{1F469}\u{200D}\u{1F4BB}",
            "Jos\u{e9}",
            "\u{FDCF}x",
        ] {
            assert_eq!(check_text("f", ok).unwrap(), ok);
        }
        assert_eq!(check_text("f", "  ").unwrap(), "");
    }

    #[test]
    fn parse_text_counts_characters() {
        assert!(parse_text("label", &"\u{f6}".repeat(32), 32).is_ok());
        let err = parse_text("label", &"a".repeat(33), 32)
            .unwrap_err()
            .to_string();
        assert!(err.contains("33 characters"), "{err}");
        assert!(parse_text("label", " ", 32).is_err());
    }
}
