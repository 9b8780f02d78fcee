package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of every layer for the tokens seen so far, so that the next forward processes only new tokens.
 * Owns a sub-manager of the scope it was opened in; each append replaces the previous arrays and closes them, so a
 * long generation holds one copy per layer. Keys are kept transposed ({@code [B, KV, D, S]}) so attention needs no
 * per-step transpose of the whole past.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keysT;  // [layers] each [B, kvHeads, headDim, S]
    private final NDArray[] values; // [layers] each [B, kvHeads, S, headDim]
    private final int batch;
    private int[][] keyMask;        // [B][S]
    private final int[] realTokens; // [B] real tokens seen per row: the next real token's position

    KvCache(NDManager scope, int layers, int batch) {
        if (batch <= 0) {
            throw new IllegalArgumentException("cache batch size must be positive, got " + batch);
        }
        this.manager = scope.newSubManager();
        this.keysT = new NDArray[layers];
        this.values = new NDArray[layers];
        this.batch = batch;
        this.keyMask = new int[batch][0];
        this.realTokens = new int[batch];
    }

    public int batchSize() {
        return batch;
    }

    /** Cached positions (padding included). */
    public int length() {
        return keyMask[0].length;
    }

    /** Real tokens seen in row b. */
    public int realTokens(int b) {
        return realTokens[b];
    }

    /** The past mask followed by a new chunk's mask. */
    int[][] keyMaskWith(TokenBatch chunk) {
        int[][] chunkMask = chunk.mask();
        int[][] joined = new int[batch][];
        for (int b = 0; b < batch; b++) {
            joined[b] = new int[keyMask[b].length + chunkMask[b].length];
            System.arraycopy(keyMask[b], 0, joined[b], 0, keyMask[b].length);
            System.arraycopy(chunkMask[b], 0, joined[b], keyMask[b].length, chunkMask[b].length);
        }
        return joined;
    }

    /** Appends one layer's new keys/values and returns the whole past, owned by this cache. */
    NDArray[] append(int layer, NDArray newKeysT, NDArray newValues) {
        if (keysT[layer] == null) {
            newKeysT.attach(manager);
            newValues.attach(manager);
            keysT[layer] = newKeysT;
            values[layer] = newValues;
        } else {
            NDArray k = keysT[layer].concat(newKeysT, 3);
            NDArray v = values[layer].concat(newValues, 2);
            keysT[layer].close();
            values[layer].close();
            keysT[layer] = k;
            values[layer] = v;
        }
        return new NDArray[] {keysT[layer], values[layer]};
    }

    /** Records a chunk once every layer has appended it. */
    void commit(TokenBatch chunk) {
        keyMask = keyMaskWith(chunk);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < chunk.length(); t++) {
                if (chunk.real(b, t)) {
                    realTokens[b]++;
                }
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
