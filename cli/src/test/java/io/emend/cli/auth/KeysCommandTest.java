package io.emend.cli.auth;

import io.emend.cli.EmendRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeysCommandTest {

    @TempDir
    Path dataDir;

    @Test
    void createsThePairOnceAndTokensSignedWithItFollow() throws Exception {
        EmendRun first = EmendRun.of("keys", "--data-dir", dataDir.toString());
        assertEquals(0, first.exitCode(), first::toString);
        Path publicKey = dataDir.resolve("keys").resolve(SigningKeys.PUBLIC_FILE);
        assertEquals(publicKey.toAbsolutePath().toString(), first.out().strip());
        byte[] privateBytes = Files.readAllBytes(dataDir.resolve("keys").resolve(SigningKeys.PRIVATE_FILE));

        EmendRun again = EmendRun.of("keys", "--data-dir", dataDir.toString());
        assertEquals(0, again.exitCode(), again::toString);
        assertArrayEquals(privateBytes, Files.readAllBytes(dataDir.resolve("keys").resolve(SigningKeys.PRIVATE_FILE)),
                "a second run must keep the existing pair: tokens already issued stay valid");

        EmendRun token = EmendRun.of("token", "--role", "reader", "--data-dir", dataDir.toString());
        assertEquals(0, token.exitCode(), token::toString);
        assertTrue(token.out().strip().split("\\.").length == 3, token::toString);
    }
}
