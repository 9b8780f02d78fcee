package io.emend.registry;

import io.smallrye.jwt.build.Jwt;
import java.util.Set;

/** Bearer tokens signed with the test key pair ({@code src/test/resources/keys}), as {@code ./emend token} makes them. */
public final class Tokens {

    private Tokens() {
    }

    private static final String READER = token("rita", "reader");
    private static final String WRITER = token("walt", "writer");
    private static final String ADMIN = token("ada", "admin");

    public static String reader() {
        return READER;
    }

    public static String writer() {
        return WRITER;
    }

    public static String admin() {
        return ADMIN;
    }

    public static String token(String user, String... roles) {
        return Jwt.issuer("emend").upn(user).groups(Set.of(roles)).expiresIn(3600).sign();
    }
}
