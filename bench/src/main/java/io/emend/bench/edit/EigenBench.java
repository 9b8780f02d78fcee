package io.emend.bench.edit;

import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.Progress;
import io.emend.core.edit.SymmetricEigensolver;
import io.emend.core.edit.alphaedit.NullSpaceProjectors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * AlphaEdit's eigen-decomposition of a key moment: the Householder + QR solver against the Jacobi reference it
 * replaced, side by side in one run on the same matrices, plus the whole null-space projector
 * ({@link NullSpaceProjectors#compute}) at the new solver's speed. The matrices are key moments as a model makes them:
 * {@code C = K Kᵀ / t} over t = 4n keys mixed by a random matrix, so the spectrum spreads over orders of magnitude.
 *
 * <pre>
 * java -cp "bench/target/classes:bench/target/lib/*" io.emend.bench.edit.EigenBench [--sizes 172,256,512]
 *     [--reps 3] [--jacobi-reps 1]
 * </pre>
 */
public final class EigenBench {

    private EigenBench() {
    }

    public static void main(String[] args) {
        int[] sizes = {172, 256, 512};
        int reps = 3;
        int jacobiReps = 1;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--sizes" -> sizes = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--reps" -> reps = Integer.parseInt(args[i + 1]);
                case "--jacobi-reps" -> jacobiReps = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--sizes, --reps, --jacobi-reps)");
            }
        }
        System.out.println("| n | Jacobi s (median) | Householder+QR s (median) | ratio | projector s (median) "
                + "| max eigenvalue difference / ‖C‖ | load |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (int n : sizes) {
            Matrix c = keyMoment(new SplittableRandom(n), n);
            // warm the JIT on the fast path first, so neither timing includes compilation of the other
            SymmetricEigensolver.decompose(keyMoment(new SplittableRandom(1), Math.min(n, 64)));
            List<Double> fast = new ArrayList<>();
            Matrix.Eigen fastResult = null;
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                fastResult = SymmetricEigensolver.decompose(c);
                fast.add((System.nanoTime() - t0) / 1e9);
            }
            List<Double> jacobi = new ArrayList<>();
            Matrix.Eigen jacobiResult = null;
            for (int r = 0; r < jacobiReps; r++) {
                long t0 = System.nanoTime();
                jacobiResult = c.jacobiEigen();
                jacobi.add((System.nanoTime() - t0) / 1e9);
            }
            KeyStatistics stats = new KeyStatistics(n, 4L * n, "", Map.of(0, c));
            List<Double> projector = new ArrayList<>();
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                NullSpaceProjectors.compute(stats, 0.05, List.of(0), Progress.NONE);
                projector.add((System.nanoTime() - t0) / 1e9);
            }
            double diff = 0;
            for (int i = 0; i < n; i++) {
                diff = Math.max(diff, Math.abs(fastResult.eigenvalues()[i] - jacobiResult.eigenvalues()[i]));
            }
            double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            System.out.printf("| %d | %.2f | %.3f | %.0fx | %.3f | %.1e | %.1f |%n", n, median(jacobi), median(fast),
                    median(jacobi) / median(fast), median(projector), diff / c.frobeniusNorm(), load);
        }
    }

    /** {@code K Kᵀ / t} for t = 4n keys {@code K = M G}, M and G Gaussian: correlated keys with a spread spectrum. */
    static Matrix keyMoment(SplittableRandom rng, int n) {
        int t = 4 * n;
        double[] m = new double[n * n];
        double[] g = new double[n * t];
        for (int i = 0; i < m.length; i++) {
            m[i] = rng.nextGaussian();
        }
        for (int i = 0; i < g.length; i++) {
            g[i] = rng.nextGaussian();
        }
        Matrix k = new Matrix(n, n, m).times(new Matrix(n, t, g));
        return k.timesOwnTranspose().scale(1.0 / t);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int mid = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(mid) : (sorted.get(mid - 1) + sorted.get(mid)) / 2;
    }
}
