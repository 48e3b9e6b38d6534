//! Class labels as the kernels read them: a run of samples at a time, as
//! f32 class indices (exact below 2²⁴), so a kernel makes one call per tile
//! instead of one per sample.

/// Index targets, validated by the loss layer.
pub(crate) trait ClassLabels {
    /// Writes the class of samples `first..first + out.len()` into `out`
    /// as f32, `−1` for an ignored sample (and for any past the end).
    fn classes_f32(&self, first: usize, out: &mut [f32]);
}
