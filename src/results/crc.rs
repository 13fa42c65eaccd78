//! The two table-driven CRC-32 variants the tracker logs use: IEEE (W&B) and Castagnoli (TFRecord).

/// CRC-32 (IEEE), as W&B's log uses it; `seed` continues an earlier CRC.
pub fn crc32(seed: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = table(0xedb8_8320);
    update(&TABLE, seed, data)
}

/// CRC-32C (Castagnoli), as TFRecord uses it.
pub fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = table(0x82f6_3b78);
    update(&TABLE, 0, data)
}

const fn table(reversed_poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                reversed_poly ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

fn update(table: &[u32; 256], seed: u32, data: &[u8]) -> u32 {
    let mut crc = !seed;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        // The standard check value of each variant: the CRC of "123456789".
        assert_eq!(crc32(0, b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        // Continuing from a seed is the same as one pass.
        assert_eq!(crc32(crc32(0, b"1234"), b"56789"), 0xcbf4_3926);
    }
}
