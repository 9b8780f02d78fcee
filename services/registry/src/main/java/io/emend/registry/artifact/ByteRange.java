package io.emend.registry.artifact;

import io.emend.registry.problem.RegistryException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One inclusive byte range of an object of known size, from an HTTP {@code Range} header (RFC 9110 §14.1.2):
 * {@code bytes=a-b}, {@code bytes=a-} or {@code bytes=-n} (the last n bytes). A header the registry does not
 * understand, such as several ranges, is ignored and the whole object is sent, as the RFC allows.
 */
public record ByteRange(long first, long last) {

    private static final Pattern SINGLE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    public long length() {
        return last - first + 1;
    }

    public String contentRange(long size) {
        return "bytes " + first + "-" + last + "/" + size;
    }

    /** The range to send, empty for the whole object; 416 when the range lies wholly past the end. */
    public static Optional<ByteRange> parse(String header, long size) {
        if (header == null) {
            return Optional.empty();
        }
        Matcher m = SINGLE.matcher(header.strip());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return Optional.empty();
        }
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0 || size == 0) {
                    throw unsatisfiable(header, size);
                }
                return Optional.of(new ByteRange(Math.max(0, size - suffix), size - 1));
            }
            long first = Long.parseLong(m.group(1));
            long last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
            if (first >= size) {
                throw unsatisfiable(header, size);
            }
            if (last < first) {
                return Optional.empty();
            }
            return Optional.of(new ByteRange(first, last));
        } catch (NumberFormatException tooLong) {
            return Optional.empty();
        }
    }

    private static RegistryException.RangeNotSatisfiable unsatisfiable(String header, long size) {
        return new RegistryException.RangeNotSatisfiable("range '" + header + "' lies outside the " + size
                + " bytes of the object", size);
    }
}
