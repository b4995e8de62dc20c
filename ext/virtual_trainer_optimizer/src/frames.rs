//! Call sites, captured natively: the Ruby stack is read with
//! `rb_profile_frames` (no Backtrace objects, no strings), each frame is
//! classified once by a Ruby-supplied classifier and cached, and only the
//! application frames are kept. They are turned into `path:line` text only
//! when a finding is reported.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};

use magnus::rb_sys::{AsRawValue, FromRawValue};
use magnus::{function, prelude::*, Error, RArray, RModule, Ruby, Value};
use rb_sys::VALUE;

/// Frames read per query; a deeper stack loses its outermost frames.
pub const MAX_DEPTH: usize = 256;
/// Application frames kept per call site (innermost first).
pub const MAX_APP_FRAMES: usize = 16;
/// Classified frames kept process-wide; the table starts over when full.
const TABLE_CAPACITY: usize = 50_000;

/// What a frame's file is, as the Ruby classifier says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// Gems, Rails, the standard library, C functions.
    Library,
    /// The application's own code.
    App,
    /// Library code that loads records in deliberate batches and hands the
    /// app whole batches (`in_batches`, `find_in_batches`, association
    /// preloading): its own queries, and the queries of the block it calls,
    /// run once per batch.
    Batch,
    /// Batch loading that hands the app one record at a time (`find_each`):
    /// its own queries are batches, its block's queries run per record.
    BatchEach,
    /// A method written in C (no file): transparent when looking for the
    /// library code that called the app.
    CFunc,
    /// ActiveRecord's association readers (the fix hint tells an association
    /// load from a plain `find`).
    Association,
    /// Not classified yet (never stored in the table).
    Unknown,
}

impl FrameKind {
    fn from_code(code: i64) -> FrameKind {
        match code {
            1 => FrameKind::App,
            2 => FrameKind::Batch,
            4 => FrameKind::BatchEach,
            3 => FrameKind::Association,
            _ => FrameKind::Library,
        }
    }
}

/// Frame values are aligned pointers: spread them with one multiply.
#[derive(Default)]
struct PointerHasher(u64);

impl Hasher for PointerHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type FrameMap<V> = HashMap<VALUE, V, BuildHasherDefault<PointerHasher>>;

struct Table {
    kinds: FrameMap<FrameKind>,
    /// A direct-mapped copy of recent entries of `kinds`: one compare per
    /// frame on the hot path instead of a hash-table probe.
    recent: Vec<(VALUE, FrameKind)>,
    classifier: Option<VALUE>,
}

const RECENT_SLOTS: usize = 1 << 13;

impl Table {
    fn slot(frame: VALUE) -> usize {
        ((frame >> 3).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 51) as usize & (RECENT_SLOTS - 1)
    }

    /// The kind of each frame, `Unknown` for frames not classified yet.
    fn kinds_of(&mut self, frames: &[VALUE], kinds: &mut [FrameKind]) {
        if self.recent.len() != RECENT_SLOTS {
            self.recent = vec![(0, FrameKind::Unknown); RECENT_SLOTS];
        }
        let recent = &mut self.recent[..RECENT_SLOTS];
        for (kind, &frame) in kinds.iter_mut().zip(frames) {
            let entry = &mut recent[Self::slot(frame)];
            *kind = if entry.0 == frame {
                entry.1
            } else {
                match self.kinds.get(&frame) {
                    Some(&k) => {
                        *entry = (frame, k);
                        k
                    }
                    None => FrameKind::Unknown,
                }
            };
        }
    }

    fn insert(&mut self, frame: VALUE, kind: FrameKind) {
        if self.kinds.len() >= TABLE_CAPACITY {
            self.clear();
        }
        self.kinds.insert(frame, kind);
    }

    fn clear(&mut self) {
        self.kinds.clear();
        self.recent.fill((0, FrameKind::Unknown));
    }
}

/// Every frame in the table, and the classifier, are marked (pinned) by
/// [`Root`], so a cached address can never be reused by another frame.
/// Nothing allocates Ruby objects while the lock is held, so the GC's mark
/// phase never finds it taken.
static TABLE: Mutex<Table> = Mutex::new(Table {
    kinds: HashMap::with_hasher(BuildHasherDefault::new()),
    recent: Vec::new(),
    classifier: None,
});

fn table() -> MutexGuard<'static, Table> {
    TABLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps the table's frames and the classifier alive and in place.
#[derive(magnus::TypedData)]
#[magnus(
    class = "VirtualTrainerOptimizer::Native::FrameTable",
    free_immediately,
    mark
)]
struct Root;

impl magnus::DataTypeFunctions for Root {
    fn mark(&self, _marker: &magnus::gc::Marker) {
        let table = table();
        for &frame in table.kinds.keys() {
            // SAFETY: called during the GC's mark phase; rb_gc_mark pins.
            unsafe { rb_sys::rb_gc_mark(frame) };
        }
        if let Some(classifier) = table.classifier {
            unsafe { rb_sys::rb_gc_mark(classifier) };
        }
    }
}

pub fn init(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("FrameTable", ruby.class_object())?;
    class.undef_default_alloc_func();
    let root = ruby.obj_wrap(Root);
    magnus::gc::register_mark_object(root);
    native.define_module_function("frame_classifier=", function!(set_classifier, 1))?;
    native.define_module_function("frame_table_size", function!(table_size, 0))?;
    native.define_module_function("clear_frame_table!", function!(clear_table, 0))?;
    native.define_module_function("app_frames", function!(app_frames, 0))?;
    Ok(())
}

/// `Native.frame_classifier = ->(path, method_name) { 0..4 }`: library, app,
/// batch, association, batch-each (see [`FrameKind`]).
/// Replacing it forgets every classified frame.
fn set_classifier(ruby: &Ruby, classifier: Value) -> Result<(), Error> {
    if !classifier.respond_to("call", false)? {
        return Err(Error::new(
            ruby.exception_type_error(),
            "the frame classifier must respond to #call(path)",
        ));
    }
    let mut table = table();
    table.clear();
    table.classifier = Some(classifier.as_raw());
    Ok(())
}

fn table_size() -> usize {
    table().kinds.len()
}

fn clear_table() {
    table().clear();
}

/// The call site of the current stack.
pub struct Capture {
    /// Identifies the chain of application frames with their lines; the whole
    /// stack when no frame is the application's.
    pub site: u64,
    /// Application frames, innermost first (frame, line): the first `app_len`.
    pub app: [(VALUE, i32); MAX_APP_FRAMES],
    /// How many of `app` are set.
    pub app_len: usize,
    /// Issued by batch or preload code, or by an app block that such code
    /// calls once per batch.
    pub batch: bool,
    /// Issued through an association reader.
    pub via_association: bool,
}

impl Capture {
    /// The application frames, innermost first.
    pub fn app_frames(&self) -> &[(VALUE, i32)] {
        &self.app[..self.app_len]
    }
}

fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// Reads the current stack. Calls the classifier (Ruby) only for frames it has
/// not seen before; nothing is allocated on the way.
pub fn capture(_gvl: &Ruby) -> Result<Capture, Error> {
    let mut frames = [0 as VALUE; MAX_DEPTH];
    let mut lines = [0i32; MAX_DEPTH];
    // SAFETY: both buffers hold MAX_DEPTH entries; start 0 (Ruby 3.1 to 3.3
    // ignore other starts). The frames are only passed back to
    // rb_profile_frame_* functions.
    let n = unsafe {
        rb_sys::rb_profile_frames(0, MAX_DEPTH as i32, frames.as_mut_ptr(), lines.as_mut_ptr())
    };
    let n = usize::try_from(n).unwrap_or(0).min(MAX_DEPTH);
    let (frames, lines) = (&frames[..n], &lines[..n]);
    let mut kinds = [FrameKind::Unknown; MAX_DEPTH];
    let kinds = &mut kinds[..n];
    table().kinds_of(frames, kinds);
    if kinds.contains(&FrameKind::Unknown) {
        // First sight of some frames: classify them (Ruby code runs, so the
        // table is not locked meanwhile), then read every kind again.
        for &frame in frames {
            let mut one = [FrameKind::Unknown];
            table().kinds_of(&[frame], &mut one);
            if one[0] == FrameKind::Unknown {
                let kind = classify(frame)?;
                table().insert(frame, kind);
            }
        }
        table().kinds_of(frames, kinds);
    }

    let mut capture = Capture {
        site: 0x9e37_79b9_7f4a_7c15,
        app: [(0, 0); MAX_APP_FRAMES],
        app_len: 0,
        batch: false,
        via_association: false,
    };
    // Above the innermost app frame: the library code it called. Below the
    // innermost run of app frames (C frames skipped): the library code that
    // called it, which matters when it hands the app whole batches.
    let mut seen_app = false;
    let mut below_app_run = false;
    for ((&kind, &frame), &line) in kinds.iter().zip(frames).zip(lines) {
        match kind {
            FrameKind::App => {
                seen_app = true;
                capture.site = mix(mix(capture.site, frame), line as u64);
                if capture.app_len < MAX_APP_FRAMES {
                    capture.app[capture.app_len] = (frame, line);
                    capture.app_len += 1;
                }
            }
            FrameKind::CFunc => {}
            _ if !seen_app => match kind {
                FrameKind::Batch | FrameKind::BatchEach => capture.batch = true,
                FrameKind::Association => capture.via_association = true,
                _ => {}
            },
            _ if !below_app_run => {
                below_app_run = true;
                capture.batch |= kind == FrameKind::Batch;
            }
            _ => {}
        }
    }
    if !seen_app {
        // No application frame: only the very same stack is the same site.
        for (&frame, &line) in frames.iter().zip(lines) {
            capture.site = mix(mix(capture.site, frame), line as u64);
        }
        capture.site = mix(capture.site, 1);
    }
    Ok(capture)
}

/// The file a frame runs in, or `None` for C functions.
fn frame_path(frame: VALUE) -> Option<Value> {
    // SAFETY: `frame` came from rb_profile_frames on this stack, or is pinned
    // by a table or scope since; these functions only read it.
    let path = unsafe { Value::from_raw(rb_sys::rb_profile_frame_path(frame)) };
    if path.is_nil() {
        return None;
    }
    let absolute = unsafe { Value::from_raw(rb_sys::rb_profile_frame_absolute_path(frame)) };
    Some(if absolute.is_nil() { path } else { absolute })
}

fn classify(frame: VALUE) -> Result<FrameKind, Error> {
    let Some(path) = frame_path(frame) else {
        return Ok(FrameKind::CFunc);
    };
    // SAFETY: as in frame_path.
    let label = unsafe { Value::from_raw(rb_sys::rb_profile_frame_base_label(frame)) };
    let Some(classifier) = table().classifier else {
        return Ok(FrameKind::Library);
    };
    // SAFETY: the classifier is pinned by the table's root.
    let classifier = unsafe { Value::from_raw(classifier) };
    let code: i64 = classifier.funcall("call", (path, label))?;
    Ok(FrameKind::from_code(code))
}

/// `[[path, line, label], ...]` for frames kept by a scope.
pub fn resolve(ruby: &Ruby, frames: &[(VALUE, i32)]) -> Result<RArray, Error> {
    let out = ruby.ary_new_capa(frames.len());
    for &(frame, line) in frames {
        let path = frame_path(frame).unwrap_or_else(|| ruby.qnil().as_value());
        // SAFETY: as in frame_path.
        let label = unsafe { Value::from_raw(rb_sys::rb_profile_frame_full_label(frame)) };
        out.push((path, line, label))?;
    }
    Ok(out)
}

/// `Native.app_frames`: the application frames of the caller's stack, as a
/// query would see them (diagnostics and tests).
fn app_frames(ruby: &Ruby) -> Result<RArray, Error> {
    let capture = capture(ruby)?;
    resolve(ruby, capture.app_frames())
}
