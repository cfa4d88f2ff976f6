//! The exact reason of a refusal as text for `log_detail`, composed on the cold path into a
//! buffer on the stack (no `core::fmt`, no allocation): a few static pieces and numbers.

/// A NUL-terminated text of at most `DETAIL_BYTES - 1` bytes (longer text is cut).
pub(crate) struct DetailText {
    bytes: [u8; DETAIL_BYTES],
    len: usize,
}

const DETAIL_BYTES: usize = 160;

impl DetailText {
    pub(crate) const fn new() -> Self {
        DetailText { bytes: [0; DETAIL_BYTES], len: 0 }
    }

    /// Appends `text` (a trailing NUL, as static texts carry, is left out).
    #[inline(never)]
    pub(crate) fn push(&mut self, text: &[u8]) -> &mut Self {
        for &byte in text.iter().take_while(|&&b| b != 0) {
            if self.len + 1 >= DETAIL_BYTES {
                break;
            }
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = byte;
                self.len += 1;
            }
        }
        self
    }

    /// Appends `value` in decimal.
    #[inline(never)]
    pub(crate) fn number(&mut self, value: u32) -> &mut Self {
        let mut digits = [0u8; 10];
        let mut first = digits.len();
        let mut rest = value;
        loop {
            first -= 1;
            if let Some(d) = digits.get_mut(first) {
                *d = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
            if rest == 0 || first == 0 {
                break;
            }
        }
        self.push(digits.get(first..).unwrap_or(&[]))
    }

    /// The text so far, NUL-terminated (the buffer's bytes past `len` are zero).
    pub(crate) fn as_bytes_with_nul(&self) -> &[u8] {
        self.bytes.get(..=self.len).unwrap_or(&self.bytes)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn pieces_and_numbers_make_one_nul_terminated_text() {
        let mut t = DetailText::new();
        t.push(b"buffer \0").number(0).push(b", ").number(4_294_967_295).push(b" and ").number(1030);
        assert_eq!(t.as_bytes_with_nul(), b"buffer 0, 4294967295 and 1030\0");
    }

    #[test]
    fn a_long_text_is_cut_and_still_terminated() {
        let mut t = DetailText::new();
        for _ in 0..100 {
            t.push(b"0123456789");
        }
        let bytes = t.as_bytes_with_nul();
        assert_eq!(bytes.len(), DETAIL_BYTES);
        assert_eq!(bytes.last(), Some(&0));
    }
}
