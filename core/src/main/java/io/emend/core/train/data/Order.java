package io.emend.core.train.data;

import java.util.SplittableRandom;

/** Seeded permutations (Fisher–Yates), the one source of data order so that a seed fixes it everywhere. */
public final class Order {

    private Order() {
    }

    public static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
