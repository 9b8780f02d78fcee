package io.emend.service.stack;

import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.util.KeyUtils;
import java.nio.file.Files;
import java.security.PrivateKey;
import java.util.Set;

/** Bearer tokens signed with the test key pair {@link TestStack} wrote, as {@code ./emend token} makes them. */
public final class Tokens {

    private Tokens() {
    }

    public static String reader() {
        return token("rita", "reader");
    }

    public static String writer() {
        return token("walt", "writer");
    }

    public static String admin() {
        return token("ada", "admin");
    }

    public static String token(String user, String... roles) {
        return Jwt.issuer("emend").upn(user).groups(Set.of(roles)).expiresIn(3600).sign(key());
    }

    private static PrivateKey key() {
        try {
            return KeyUtils.decodePrivateKey(Files.readString(TestStack.KEYS.resolve("private.pem")));
        } catch (Exception e) {
            throw new IllegalStateException("the test key pair is missing; TestStack writes it", e);
        }
    }
}
