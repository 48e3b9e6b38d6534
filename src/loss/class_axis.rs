//! The shape model and targets of every loss over a class axis (softmax
//! cross-entropy, softmax focal; Dice later).
//!
//! Logits are `[N, C, S]`, row-major: `input[(n·C + c)·S + s]` is class `c`
//! of pixel `s` of image `n`. `S = 1` is a classifier's `[N, C]`; `S = H·W`
//! (or `D·H·W`) is PyTorch's channel-first `NCHW` map. A *sample* is one
//! `(n, s)`: there are `N·S` of them, in the order `j = n·S + s`.
//!
//! Targets are either class indices `[N, S]` (any of `u8`, `u16`, `u32`,
//! `u64`, `i32`, `i64`, `usize`; see [`Label`]) or class probabilities
//! `[N, C, S]` in the logits' layout ([`Probabilities`]).

use crate::error::LossError;
use crate::kernel::labels::LabelRun;

/// The default `ignore_index`, as in PyTorch.
pub const DEFAULT_IGNORE_INDEX: i64 = -100;

/// The largest class count: every class index is an exact f32 (`2²⁴`).
pub const MAX_CLASSES: usize = 1 << 24;

/// A validated `[N, C, S]` shape: every extent ≥ 1, `N·C·S` fits in
/// `usize`, `C ≤ 2²⁴`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClassShape {
    n: usize,
    c: usize,
    s: usize,
}

impl ClassShape {
    /// `[n, c, s]`: `n` images (or rows), `c` classes, `s` pixels per image
    /// (`H·W`; 1 for a classifier).
    ///
    /// # Errors
    /// [`LossError::InvalidShape`] naming `"n"`, `"c"` or `"s"` if it is 0
    /// (or `c > 2²⁴`), or `"shape"` if `n·c·s` overflows `usize`.
    pub const fn new(n: usize, c: usize, s: usize) -> Result<Self, LossError> {
        if n == 0 {
            return Err(LossError::InvalidShape {
                argument: "n",
                value: n,
                requirement: ">= 1",
            });
        }
        if c == 0 || c > MAX_CLASSES {
            return Err(LossError::InvalidShape {
                argument: "c",
                value: c,
                requirement: "in 1..=2^24",
            });
        }
        if s == 0 {
            return Err(LossError::InvalidShape {
                argument: "s",
                value: s,
                requirement: ">= 1",
            });
        }
        let ok = match n.checked_mul(c) {
            Some(nc) => nc.checked_mul(s).is_some(),
            None => false,
        };
        if !ok {
            return Err(LossError::InvalidShape {
                argument: "shape",
                value: s,
                requirement: "such that n·c·s fits in usize",
            });
        }
        Ok(Self { n, c, s })
    }

    /// A classifier's `[n, c]` (`s = 1`).
    ///
    /// # Errors
    /// As [`ClassShape::new`].
    pub const fn classifier(n: usize, c: usize) -> Result<Self, LossError> {
        Self::new(n, c, 1)
    }

    /// N, the batch size.
    #[must_use]
    pub const fn batch(&self) -> usize {
        self.n
    }

    /// C, the number of classes.
    #[must_use]
    pub const fn classes(&self) -> usize {
        self.c
    }

    /// S, the pixels per image (1 for a classifier).
    #[must_use]
    pub const fn spatial(&self) -> usize {
        self.s
    }

    /// `N·S`, the number of samples (and of index labels).
    #[must_use]
    pub const fn samples(&self) -> usize {
        self.n * self.s
    }

    /// `N·C·S`, the number of logits.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.n * self.c * self.s
    }

    /// Always false: every extent is at least 1.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// `Err(LengthMismatch)` naming `argument` unless `len == self.len()`.
    pub(crate) fn check_len(
        &self,
        argument: &'static str,
        expected: usize,
        len: usize,
    ) -> Result<(), LossError> {
        if len == expected {
            Ok(())
        } else {
            Err(LossError::LengthMismatch {
                argument,
                expected,
                actual: len,
            })
        }
    }
}

pub(crate) mod sealed {
    /// Seals [`super::Label`] and [`super::ClassTarget`].
    pub trait Sealed {}
}

/// An integer type usable as a class index: `u8`, `u16`, `u32`, `u64`,
/// `i32`, `i64` and `usize` (sealed).
pub trait Label: sealed::Sealed + Copy + Sync {
    #[doc(hidden)]
    fn labels(slice: &[Self]) -> Labels<'_>;
}

#[doc(hidden)]
pub use crate::kernel::labels::Labels;

macro_rules! label {
    ($($t:ty => $variant:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Label for $t {
            fn labels(slice: &[Self]) -> Labels<'_> {
                Labels::$variant(slice)
            }
        }
    )*};
}
label!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, i32 => I32, i64 => I64, usize => Usize);

/// Class probabilities `[N, C, S]` as a target (soft labels, mixup,
/// cutmix), in the logits' layout. Not validated, as in PyTorch: rows need
/// not sum to 1.
#[derive(Clone, Copy, Debug)]
pub struct Probabilities<'a>(pub &'a [f32]);

/// What the class-axis losses accept as a target: index labels `[N, S]`
/// (`&[T]`, `&[T; K]` or, with `std`, `&Vec<T>` for any [`Label`] `T`), or
/// [`Probabilities`] `[N, C, S]`. Sealed.
pub trait ClassTarget<'a>: sealed::Sealed + Copy {
    #[doc(hidden)]
    fn kind(self) -> TargetKind<'a>;
}

/// The two kinds of target.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum TargetKind<'a> {
    /// Index labels `[N, S]`.
    Index(Labels<'a>),
    /// Probabilities `[N, C, S]`.
    Probabilities(&'a [f32]),
}

impl<T: Label> sealed::Sealed for &[T] {}
impl<'a, T: Label> ClassTarget<'a> for &'a [T] {
    fn kind(self) -> TargetKind<'a> {
        TargetKind::Index(T::labels(self))
    }
}

impl<T: Label, const K: usize> sealed::Sealed for &[T; K] {}
impl<'a, T: Label, const K: usize> ClassTarget<'a> for &'a [T; K] {
    fn kind(self) -> TargetKind<'a> {
        TargetKind::Index(T::labels(self.as_slice()))
    }
}

#[cfg(feature = "std")]
impl<T: Label> sealed::Sealed for &std::vec::Vec<T> {}
#[cfg(feature = "std")]
impl<'a, T: Label> ClassTarget<'a> for &'a std::vec::Vec<T> {
    fn kind(self) -> TargetKind<'a> {
        TargetKind::Index(T::labels(self.as_slice()))
    }
}

impl sealed::Sealed for Probabilities<'_> {}
impl<'a> ClassTarget<'a> for Probabilities<'a> {
    fn kind(self) -> TargetKind<'a> {
        TargetKind::Probabilities(self.0)
    }
}

/// Index labels checked against a shape: every label is in `0..C` or the
/// ignore index. Built by [`IndexLabels::validate`], which also sums the
/// weights of the non-ignored samples (the `Mean` denominator).
#[derive(Clone, Copy)]
pub(crate) struct IndexLabels<'a> {
    labels: Labels<'a>,
    ignore_index: i64,
}

impl<'a> IndexLabels<'a> {
    /// Checks every label (nothing is written by a caller that gets
    /// `Err`). Returns the labels and `(Σ w_y, count)` over the non-ignored
    /// samples, summed in order in f64 (`w = 1` without weights).
    pub(crate) fn validate(
        labels: Labels<'a>,
        shape: ClassShape,
        ignore_index: i64,
        weight: Option<&[f32]>,
    ) -> Result<(Self, f64, usize), LossError> {
        shape.check_len("target", shape.samples(), labels.len())?;
        let classes = shape.classes();
        let this = Self {
            labels,
            ignore_index,
        };
        let mut weight_sum = 0.0f64;
        let count;
        let mut first_bad: Option<usize> = None;
        // One match on the label type, then a tight loop in the label's
        // own type (this runs once per label before every call): the
        // ignore index and the class count as `T` (`None`: no `T` equals
        // the ignore index / every `T` is below the class count).
        macro_rules! each {
            ($v:expr, $t:ty, $count:ty) => {{
                let (has_ignore, ignore_t) = match <$t>::try_from(ignore_index) {
                    Ok(i) => (true, i),
                    Err(_) => (false, 0),
                };
                let (bounded, limit_t) = match <$t>::try_from(classes) {
                    Ok(l) => (true, l),
                    Err(_) => (false, 0),
                };
                // Branch-free (vectorizable): count the ignored labels and
                // note whether any label is invalid; find which only then.
                let judge = |x: $t| {
                    let ignored = has_ignore & (x == ignore_t);
                    #[allow(unused_comparisons)] // unsigned labels
                    let valid = (x >= 0) & (!bounded | (x < limit_t));
                    (ignored, !ignored & !valid)
                };
                let mut ignored = 0usize;
                let mut any_bad = false;
                // Counts as wide as the label (`$count`, at most u32) per
                // block that cannot overflow them: the counting lanes are
                // as many as the label lanes (u8 labels with u32 counts
                // spent 10% of a binary Dice call widening).
                let block_len = usize::try_from(<$count>::MAX)
                    .unwrap_or(1 << 20)
                    .min(1 << 20);
                for block in $v.chunks(block_len) {
                    let (mut ignored_here, mut bad_here): ($count, $count) = (0, 0);
                    for &x in block {
                        let (ig, bad) = judge(x);
                        ignored_here += <$count>::from(ig);
                        bad_here |= <$count>::from(bad);
                    }
                    ignored += ignored_here as usize;
                    any_bad |= bad_here != 0;
                }
                if any_bad {
                    first_bad = $v.iter().position(|&x| judge(x).1);
                }
                count = $v.len() - ignored;
                if let (Some(w), false) = (weight, any_bad) {
                    for &x in $v.iter() {
                        if !judge(x).0 {
                            // 0 <= x < classes <= 2^24.
                            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
                            let class = x as usize;
                            weight_sum += f64::from(w.get(class).copied().unwrap_or(0.0));
                        }
                    }
                }
            }};
        }
        match labels {
            Labels::U8(v) => each!(v, u8, u8),
            Labels::U16(v) => each!(v, u16, u16),
            Labels::U32(v) => each!(v, u32, u32),
            Labels::U64(v) => each!(v, u64, u32),
            Labels::I32(v) => each!(v, i32, u32),
            Labels::I64(v) => each!(v, i64, u32),
            Labels::Usize(v) => each!(v, usize, u32),
        }
        let first_bad = first_bad.map(|j| (j, labels.get(j).unwrap_or(-1)));
        if let Some((index, label)) = first_bad {
            return Err(LossError::InvalidLabel {
                argument: "target",
                index,
                label,
                classes,
            });
        }
        if weight.is_none() {
            #[allow(clippy::cast_precision_loss)]
            let n = count as f64;
            weight_sum = n;
        }
        Ok((this, weight_sum, count))
    }

    /// The labels and ignore index, as the kernels read them.
    pub(crate) fn run(&self) -> LabelRun<'a> {
        LabelRun {
            labels: self.labels,
            ignore_index: self.ignore_index,
        }
    }
}
