//! TensorBoard event files (`events.out.tfevents.*`), read by hand: the TFRecord framing with
//! its masked CRC-32C checks, and the few protobuf fields a scalar needs. No TensorFlow, no
//! protobuf compiler.
//!
//! A record is `u64 length (LE) | u32 masked crc32c(length) | data | u32 masked crc32c(data)`.
//! `data` is an `Event`: `wall_time` (1, double), `step` (2, int64), `summary` (5). A `Summary`
//! holds repeated `value` (1): `tag` (1), `simple_value` (2, float; PyTorch's and
//! tensorboardX's `add_scalar`) or `tensor` (8; `tf.summary.scalar` in TF 2 and tensorboard's
//! own writer). A tensor is a scalar when its shape has no dimension; its value is in
//! `tensor_content` (little-endian) or in the typed repeated field (`float_val`, `double_val`,
//! `int_val`, `int64_val`, `half_val`). Other values (images, histograms, text) are skipped.
//!
//! A damaged record (a CRC mismatch) is an error naming the byte offset. A record cut short at
//! the end of the file (the writer was still running) ends the reading quietly.

use super::{Point, Results};
use std::path::Path;

pub use super::crc::crc32c;

/// TFRecord's masked CRC: rotated right by 15 bits plus a constant.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Why an event file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsError {
    pub offset: u64,
    pub message: String,
}

/// What an event file holds: scalar series by tag, and how many records were read.
#[derive(Debug, Default)]
pub struct EventsRead {
    pub results: Results,
    pub records: usize,
    /// The file ended inside a record (still being written).
    pub truncated: bool,
}

/// Reads the scalars of one event file's bytes (module docs).
pub fn read_events(bytes: &[u8]) -> Result<EventsRead, EventsError> {
    let mut out = EventsRead::default();
    let mut at = 0usize;
    while at < bytes.len() {
        let offset = at as u64;
        if bytes.len() - at < 12 {
            out.truncated = true;
            break;
        }
        let header = &bytes[at..at + 8];
        let len = u64::from_le_bytes(header.try_into().expect("8 bytes"));
        let len_crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
        if masked_crc32c(header) != len_crc {
            return Err(EventsError {
                offset,
                message: "record length fails its CRC check (not a TFRecord file, or damaged)"
                    .into(),
            });
        }
        let Some(end) = (at + 12)
            .checked_add(len as usize)
            .and_then(|e| e.checked_add(4))
        else {
            return Err(EventsError {
                offset,
                message: format!("record length {len} is absurd"),
            });
        };
        if end > bytes.len() {
            out.truncated = true;
            break;
        }
        let data = &bytes[at + 12..end - 4];
        let data_crc = u32::from_le_bytes(bytes[end - 4..end].try_into().expect("4 bytes"));
        if masked_crc32c(data) != data_crc {
            return Err(EventsError {
                offset,
                message: "record data fails its CRC check (damaged file)".into(),
            });
        }
        read_event(data, &mut out.results).map_err(|message| EventsError { offset, message })?;
        out.records += 1;
        at = end;
    }
    attach_epochs(&mut out.results);
    Ok(out)
}

/// Lightning logs `epoch` as a scalar at each step: it gives the other points their epoch.
fn attach_epochs(results: &mut Results) {
    let Some(i) = results.series.iter().position(|s| s.name == "epoch") else {
        return;
    };
    let epochs = results.series.remove(i);
    for s in &mut results.series {
        for p in &mut s.points {
            if p.epoch.is_none() {
                p.epoch = epochs
                    .points
                    .iter()
                    .find(|e| e.step == p.step)
                    .map(|e| e.value);
            }
        }
    }
}

/// Reads one file.
pub fn read_events_file(path: &Path) -> Result<EventsRead, EventsError> {
    let bytes = std::fs::read(path).map_err(|e| EventsError {
        offset: 0,
        message: e.to_string(),
    })?;
    read_events(&bytes)
}

use super::proto::{Field, Reader};

fn read_event(data: &[u8], out: &mut Results) -> Result<(), String> {
    let mut r = Reader::new(data);
    let mut step: Option<i64> = None;
    let mut summary: Option<&[u8]> = None;
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (2, Field::Varint(v)) => step = Some(v as i64),
            (5, Field::Bytes(b)) => summary = Some(b),
            _ => {}
        }
    }
    let Some(summary) = summary else {
        return Ok(());
    };
    let step = step.filter(|s| *s >= 0).map(|s| s as u64);
    let mut r = Reader::new(summary);
    while let Some((n, f)) = r.next()? {
        if let (1, Field::Bytes(value)) = (n, f) {
            if let Some((tag, v)) = read_value(value)? {
                out.add_point(
                    &tag,
                    Point {
                        step: Some(step.unwrap_or(0)),
                        epoch: None,
                        value: v,
                    },
                );
            }
        }
    }
    Ok(())
}

/// `Summary.Value`: its tag and scalar, if it is one.
fn read_value(data: &[u8]) -> Result<Option<(String, f64)>, String> {
    let mut r = Reader::new(data);
    let mut tag = None;
    let mut value = None;
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(b)) => tag = Some(String::from_utf8_lossy(b).into_owned()),
            (2, Field::Fixed32(bits)) => value = Some(f32::from_bits(bits) as f64),
            (8, Field::Bytes(b)) => value = value.or(read_scalar_tensor(b)?),
            _ => {}
        }
    }
    Ok(tag.zip(value))
}

// TensorFlow's DataType enum values.
const DT_FLOAT: u64 = 1;
const DT_DOUBLE: u64 = 2;
const DT_INT32: u64 = 3;
const DT_INT64: u64 = 9;
const DT_BFLOAT16: u64 = 14;
const DT_HALF: u64 = 19;

/// A `TensorProto` with no dimensions, as a number.
fn read_scalar_tensor(data: &[u8]) -> Result<Option<f64>, String> {
    let mut r = Reader::new(data);
    let mut dtype = 0;
    let mut dims = 0;
    let mut content: Option<&[u8]> = None;
    let mut typed: Vec<f64> = Vec::new();
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Varint(v)) => dtype = v,
            (2, Field::Bytes(shape)) => {
                let mut s = Reader::new(shape);
                while let Some((n, _)) = s.next()? {
                    if n == 2 {
                        dims += 1;
                    }
                }
            }
            (4, Field::Bytes(b)) => content = Some(b),
            // float_val, double_val, int_val, int64_val, half_val: packed or not.
            (5, Field::Bytes(b)) => typed.extend(
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4")) as f64),
            ),
            (5, Field::Fixed32(bits)) => typed.push(f32::from_bits(bits) as f64),
            (6, Field::Bytes(b)) => typed.extend(
                b.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8"))),
            ),
            (6, Field::Fixed64(bits)) => typed.push(f64::from_bits(bits)),
            (7 | 10 | 13, Field::Bytes(b)) => {
                let mut p = Reader::new(b);
                while p.at < b.len() {
                    typed.push(varint_value(n, dtype, p.varint()?));
                }
            }
            (7 | 10 | 13, Field::Varint(v)) => typed.push(varint_value(n, dtype, v)),
            _ => {}
        }
    }
    if dims > 0 {
        return Ok(None);
    }
    if let Some(b) = content {
        let v = match dtype {
            DT_FLOAT if b.len() == 4 => f32::from_le_bytes(b.try_into().expect("4")) as f64,
            DT_DOUBLE if b.len() == 8 => f64::from_le_bytes(b.try_into().expect("8")),
            DT_INT32 if b.len() == 4 => i32::from_le_bytes(b.try_into().expect("4")) as f64,
            DT_INT64 if b.len() == 8 => i64::from_le_bytes(b.try_into().expect("8")) as f64,
            DT_HALF if b.len() == 2 => half_to_f64(u16::from_le_bytes([b[0], b[1]])),
            DT_BFLOAT16 if b.len() == 2 => {
                f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16) as f64
            }
            _ => return Ok(None),
        };
        return Ok(Some(v));
    }
    Ok(typed.first().copied())
}

/// A varint element of `int_val` (7), `int64_val` (10) or `half_val` (13).
fn varint_value(field: u64, dtype: u64, v: u64) -> f64 {
    match (field, dtype) {
        (13, DT_BFLOAT16) => f32::from_bits((v as u32) << 16) as f64,
        (13, _) => half_to_f64(v as u16),
        (7, _) => v as u32 as i32 as f64,
        _ => v as i64 as f64,
    }
}

/// IEEE 754 half precision to f64.
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_values() {
        // RFC 3720's check value.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
    }
}
