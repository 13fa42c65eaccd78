# A tiny real Keras 3 fit (JAX backend) on synthetic data; the console output is the test log.
import os
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np, keras
rng = np.random.default_rng(0)
x = rng.normal(size=(512, 8)).astype("float32")
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=4, batch_size=32, validation_split=0.25, verbose=int(os.environ.get("VERBOSE", "1")))
