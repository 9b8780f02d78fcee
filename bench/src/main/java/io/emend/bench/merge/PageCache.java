package io.emend.bench.merge;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Evicts files from the kernel's page cache and measures how much of them is still cached, so that a merge can be
 * timed reading its inputs from the storage device, as a merge of models larger than RAM does.
 *
 * <p>Eviction is {@code posix_fadvise(POSIX_FADV_DONTNEED)} on each file after {@code fsync}: the kernel drops the
 * file's clean pages (dirty ones would stay, hence the sync first). No privileges are needed, unlike
 * {@code /proc/sys/vm/drop_caches}, and nothing else on the machine loses its cache. Residency is read with
 * {@code mincore} over a mapping of the file, which maps without faulting anything in.
 */
final class PageCache {

    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int O_RDONLY = 0;
    private static final long PAGE = 4096;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = function("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = function("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FADVISE = function("posix_fadvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle MINCORE = function("mincore", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));

    private PageCache() {
    }

    private static MethodHandle function(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor);
    }

    /** Writes back and then drops every cached page of the files. */
    static void evict(List<Path> files) throws IOException {
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            try (Arena arena = Arena.ofConfined()) {
                int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
                if (fd < 0) {
                    throw new IOException("open failed for " + file);
                }
                try {
                    int rc = (int) FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                    if (rc != 0) {
                        throw new IOException("posix_fadvise failed for " + file + ": error " + rc);
                    }
                } finally {
                    int ignored = (int) CLOSE.invokeExact(fd);
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }
    }

    /** Fraction of the files' pages that are in the page cache, 0 to 1. */
    static double residentFraction(List<Path> files) throws IOException {
        long pages = 0;
        long resident = 0;
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
                long size = channel.size();
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                long n = (size + PAGE - 1) / PAGE;
                MemorySegment vector = arena.allocate(n);
                int rc = (int) MINCORE.invokeExact(mapped, size, vector);
                if (rc != 0) {
                    throw new IOException("mincore failed for " + file);
                }
                for (long i = 0; i < n; i++) {
                    resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
                }
                pages += n;
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }
        return pages == 0 ? 0 : (double) resident / pages;
    }
}
