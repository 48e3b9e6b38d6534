//! Class labels as the kernels read them: the label slice in its own
//! integer type ([`Labels`]) and, with the ignore index, a run of samples
//! at a time as f32 class indices (exact below 2²⁴) — converted inside the
//! kernel's target-feature context, so the loop vectorizes.

/// A slice of labels of one of the [`Label`] types.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Labels<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    Usize(&'a [usize]),
}

impl Labels<'_> {
    /// The number of labels.
    pub(crate) fn len(&self) -> usize {
        match self {
            Labels::U8(v) => v.len(),
            Labels::U16(v) => v.len(),
            Labels::U32(v) => v.len(),
            Labels::U64(v) => v.len(),
            Labels::I32(v) => v.len(),
            Labels::I64(v) => v.len(),
            Labels::Usize(v) => v.len(),
        }
    }

    /// Label `j` as a wide integer (exact), or `None` past the end.
    /// The labels `..mid` and `mid..` (`mid` clamped to the length).
    #[cfg(feature = "rayon")]
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        macro_rules! cut {
            ($v:expr, $variant:ident) => {{
                let (a, b) = $v.split_at(mid.min($v.len()));
                (Labels::$variant(a), Labels::$variant(b))
            }};
        }
        match self {
            Labels::U8(v) => cut!(v, U8),
            Labels::U16(v) => cut!(v, U16),
            Labels::U32(v) => cut!(v, U32),
            Labels::U64(v) => cut!(v, U64),
            Labels::I32(v) => cut!(v, I32),
            Labels::I64(v) => cut!(v, I64),
            Labels::Usize(v) => cut!(v, Usize),
        }
    }

    #[inline]
    pub(crate) fn get(&self, j: usize) -> Option<i128> {
        match self {
            Labels::U8(v) => v.get(j).map(|&x| i128::from(x)),
            Labels::U16(v) => v.get(j).map(|&x| i128::from(x)),
            Labels::U32(v) => v.get(j).map(|&x| i128::from(x)),
            Labels::U64(v) => v.get(j).map(|&x| i128::from(x)),
            Labels::I32(v) => v.get(j).map(|&x| i128::from(x)),
            Labels::I64(v) => v.get(j).map(|&x| i128::from(x)),
            Labels::Usize(v) => v.get(j).and_then(|&x| i128::try_from(x).ok()),
        }
    }
}

/// Validated index targets (every label a class or the ignore index; the
/// loss layer checked them) with their ignore index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelRun<'a> {
    pub(crate) labels: Labels<'a>,
    pub(crate) ignore_index: i64,
}

impl LabelRun<'_> {
    /// The labels `..mid` and `mid..`, with the same ignore index.
    #[cfg(feature = "rayon")]
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        let (a, b) = self.labels.split_at(mid);
        (Self { labels: a, ..self }, Self { labels: b, ..self })
    }

    /// The class of sample `j`, or `None` if it is ignored (or past the
    /// end).
    #[inline]
    pub(crate) fn class(&self, j: usize) -> Option<usize> {
        let label = self.labels.get(j)?;
        if label == i128::from(self.ignore_index) {
            return None;
        }
        usize::try_from(label).ok()
    }

    /// Writes the class of samples `first..first + out.len()` into `out`
    /// as f32, `−1` for an ignored sample (and for any past the end).
    #[inline(always)]
    pub(crate) fn classes_f32(&self, first: usize, out: &mut [f32]) {
        let ignore = self.ignore_index;
        // Validated already: every label is a class (< 2^24, exact in
        // f32) or the ignore index. A branch-free loop per label type.
        // In the label's own type: the ignore index as a `T` (`None` if no
        // `T` equals it), so the loop is a compare and a conversion that
        // the compiler vectorizes.
        macro_rules! each {
            ($v:expr, $t:ty) => {{
                let (has_ignore, ignore_t) = match <$t>::try_from(ignore) {
                    Ok(i) => (true, i),
                    Err(_) => (false, 0),
                };
                let src = $v.get(first..).unwrap_or(&[]);
                for (slot, &x) in out.iter_mut().zip(src) {
                    #[allow(clippy::cast_precision_loss)]
                    let class = x as f32;
                    *slot = if has_ignore & (x == ignore_t) {
                        -1.0
                    } else {
                        class
                    };
                }
                let done = src.len().min(out.len());
                if let Some(rest) = out.get_mut(done..) {
                    rest.fill(-1.0);
                }
            }};
        }
        match self.labels {
            Labels::U8(v) => each!(v, u8),
            Labels::U16(v) => each!(v, u16),
            Labels::U32(v) => each!(v, u32),
            Labels::U64(v) => each!(v, u64),
            Labels::I32(v) => each!(v, i32),
            Labels::I64(v) => each!(v, i64),
            Labels::Usize(v) => each!(v, usize),
        }
    }
}
