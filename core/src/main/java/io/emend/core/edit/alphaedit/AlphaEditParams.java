package io.emend.core.edit.alphaedit;

import io.emend.core.edit.memit.MemitParams;

/**
 * AlphaEdit's settings.
 *
 * @param memit              the MEMIT part (layers, target optimisation; its covariance weight is unused)
 * @param nullSpaceEnergy    the null space edits may write into is spanned by the eigenvectors of the preserved keys'
 *                           second moment C with the smallest eigenvalues, as many as keep their eigenvalues' sum
 *                           within this fraction of C's trace: the share of ordinary keys' energy an edit may touch.
 *                           (The paper thresholds absolute eigenvalues at 2e-2, which on GPT-J/Llama-3 statistics
 *                           selects near-zero directions; small models have none, and an energy share carries over
 *                           between models whose activations differ in scale.)
 * @param regularization     α: the ridge term, as a multiple of C's mean eigenvalue (the paper's {@code L2})
 * @param batchSize          requests per sequential batch (the paper's 100)
 */
public record AlphaEditParams(MemitParams memit, double nullSpaceEnergy, double regularization, int batchSize) {

    public AlphaEditParams {
        if (!(nullSpaceEnergy > 0 && nullSpaceEnergy < 1) || !(regularization > 0) || batchSize < 1) {
            throw new IllegalArgumentException("AlphaEdit needs 0 < nullSpaceEnergy < 1, regularization > 0 and "
                    + "batchSize >= 1");
        }
    }
}
