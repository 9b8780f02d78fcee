package io.emend.core.train.forgetting;

import io.emend.core.train.data.Order;

import java.util.SplittableRandom;

/**
 * Half fine-tuning (HFT): each stage trains only a random half of the parameter blocks and leaves the other half
 * exactly as the parent had it, so half of what the model knew is untouched by construction. Blocks are adapter
 * modules for LoRA/DoRA and parameter tensors for full fine-tuning; the half is drawn from the run's seed, so a new
 * stage (a new seed) freezes a different half.
 */
public final class HalfFineTuning {

    /** Salt so HFT's draw does not coincide with the other uses of the seed. */
    private static final long SALT = 0x48465421L;

    private HalfFineTuning() {
    }

    /** Which of {@code n} blocks are frozen: none, or with HFT the first ⌊n/2⌋ of a seeded permutation. */
    public static boolean[] frozen(int n, boolean enabled, long seed) {
        boolean[] frozen = new boolean[n];
        if (enabled) {
            int[] p = Order.permutation(n, new SplittableRandom(seed ^ SALT));
            for (int i = 0; i < n / 2; i++) {
                frozen[p[i]] = true;
            }
        }
        return frozen;
    }
}
