package io.emend.cli.auth;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** The registry's roles, each implying the ones below it: admin ⊃ writer ⊃ reader. */
public enum Role {
    READER,
    WRITER,
    ADMIN;

    /** The claim value, as the services spell it. */
    public String claim() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The {@code groups} a token for this role carries: the role and every role it implies. Listing them all keeps a
     * service that checks one group at a time ({@code @RolesAllowed("reader")}) working with an admin token.
     */
    public List<String> groups() {
        List<String> groups = new ArrayList<>();
        for (Role r : values()) {
            if (r.ordinal() <= ordinal()) {
                groups.add(r.claim());
            }
        }
        return groups;
    }

    public static Role parse(String text) {
        return Stream.of(values()).filter(r -> r.claim().equalsIgnoreCase(text.strip())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "unknown role '" + text + "'; use one of reader, writer, admin"));
    }

    /** Lowercase names for picocli's help and completion. */
    public static final class Candidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Stream.of(values()).map(Role::claim).iterator();
        }
    }
}
