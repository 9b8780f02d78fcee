package io.emend.core.quant;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMException;
import javax.management.ObjectName;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species every public kernel uses, chosen once per JVM.
 * {@code -Demend.vector.bits=0} forces the scalar references (useful to compare or to debug);
 * {@code 128}, {@code 256} or {@code 512} pick that width; unset means the host's preferred width.
 */
public final class KernelSpecies {

    /** The species of the vector kernels, or {@code null} when the scalar references are forced. */
    public static final VectorSpecies<Float> FLOAT = choose(System.getProperty("emend.vector.bits"));

    /**
     * Whether the JIT was told to inline the vector kernels into their callers (see {@link #inlineVectorKernels()}).
     * When false (a JVM without HotSpot's diagnostic commands) results stay correct but the kernels run far slower.
     */
    public static final boolean KERNELS_INLINED = FLOAT != null && inlineVectorKernels();

    private KernelSpecies() {
    }

    /**
     * Every vector kernel takes its species as a parameter (so tests can run any width), and the Vector API only
     * compiles to SIMD instructions where the species is a compile-time constant. That holds once a kernel is inlined
     * into a caller that passes {@link #FLOAT}; but HotSpot first compiles a hot kernel on its own (species unknown,
     * every vector boxed) and then refuses to inline that "big method", leaving matrix-vector products ~50x slower.
     * A compiler directive forcing the {@code *Vector} kernels of this package to inline avoids it, with no JVM flag
     * for users to remember; it is added once, through the same diagnostic command as {@code jcmd Compiler.directives_add}.
     *
     * <p>The same directive keeps {@code matVec} and {@code matMul} out of their callers, so each is compiled on its
     * own with exactly one kernel inside. C2 stops inlining when a method's graph passes a node budget (the
     * non-tunable {@code NodeCountInliningCutoff}), and a kernel expands to thousands of nodes before its vector
     * intrinsics reduce it: a {@code matMul} that had inlined both the four-row and the one-row Q4_0 kernel (or a
     * caller that had inlined the {@code matMul} of two formats) left a {@code blockVector} out of line, which then
     * ran with an unknown species as boxed Java, 10-40x slower. It hit Q4_0 batch-1 decode once any prefill had made
     * the four-row path hot, which the engine bench showed as a "two-thread collapse" (its 2-thread runs came second).
     * {@code readRow} (the vector dequantization) stays out of line too, and so does {@code PanelMatMul}'s 4 × 4 panel
     * {@code matMul}, so that the kernel is the one kernel of its own compiled method: inlined into the loop over rows
     * that dequantizes the panel, it ran at half its speed. (A pattern of its own for it in this directive slowed the
     * batch-1 and four-row paths by a quarter, and so did a sixth pattern for another package's kernels: measured,
     * not understood. Hence one pattern for every {@code *Vector} kernel of {@code io/emend/core}, a prefix match.)
     */
    private static boolean inlineVectorKernels() {
        try {
            Path directive = Files.createTempFile("emend-kernels", ".json");
            try {
                Files.writeString(directive, "[{ match: \"*.*\", inline: [\"-io/emend/core/quant/*.matVec\","
                        + " \"-io/emend/core/quant/*.matMul\", \"-io/emend/core/quant/*.readRow\","
                        + " \"+io/emend/core/*.*Vector\"] }]");
                ManagementFactory.getPlatformMBeanServer().invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"),
                        "compilerDirectivesAdd",
                        new Object[] {new String[] {directive.toString()}},
                        new String[] {String[].class.getName()});
                return true;
            } finally {
                Files.deleteIfExists(directive);
            }
        } catch (IOException | JMException | RuntimeException e) {
            System.getLogger(KernelSpecies.class.getName()).log(System.Logger.Level.WARNING,
                    "could not ask the JIT to inline the vector kernels; they will run slowly: " + e);
            return false;
        }
    }

    static VectorSpecies<Float> choose(String bits) {
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        int n;
        try {
            n = Integer.parseInt(bits.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("emend.vector.bits must be 0, 128, 256 or 512, got '" + bits + "'");
        }
        return switch (n) {
            case 0 -> null;
            case 128, 256, 512 -> VectorSpecies.of(float.class, VectorShape.forBitSize(n));
            default -> throw new IllegalArgumentException("emend.vector.bits must be 0, 128, 256 or 512, got " + n);
        };
    }

    /** True when the public kernels take their vector path. */
    public static boolean vectorEnabled() {
        return FLOAT != null;
    }
}
