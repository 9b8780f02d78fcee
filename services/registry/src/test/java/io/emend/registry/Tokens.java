package io.emend.registry;

import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.util.KeyUtils;
import java.security.PrivateKey;
import java.util.Set;

/**
 * Bearer tokens signed with the test key pair ({@code src/test/resources/keys}), as {@code ./emend token} makes
 * them. The key is passed explicitly, so this works in a plain JVM too (the packaged-app tests).
 */
public final class Tokens {

    private static final PrivateKey KEY = key();
    private static final String READER = token("rita", "reader");
    private static final String WRITER = token("walt", "writer");
    private static final String ADMIN = token("ada", "admin");

    private Tokens() {
    }

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
        return Jwt.issuer("emend").upn(user).groups(Set.of(roles)).expiresIn(3600).sign(KEY);
    }

    private static PrivateKey key() {
        try {
            return KeyUtils.readPrivateKey("keys/test-private.pem");
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the test signing key", e);
        }
    }
}
