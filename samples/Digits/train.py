#!/usr/bin/python3
"""Train the small CNN used by the Digits sample and export it to ONNX.

Run from anywhere (Debian's system Python has torch, sklearn and onnx):

    /usr/bin/python3 samples/Digits/train.py

Writes (paths relative to this script's folder):
    Models/digits.onnx          opset 13, input `pixels` float32 [1,1,8,8], output `scores` float32 [1,10] (raw logits)
    Data/digits-test.csv        the test split: p0..p63 scaled to [0,1], then the integer label
    Data/expected-accuracy.txt  test accuracy of the PyTorch model, e.g. 0.9711

The script is deterministic (fixed seeds, one CPU thread, deterministic algorithms),
so rerunning it reproduces the same files.
"""
import os
import random

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
EPOCHS = 30
BATCH = 32
OPSET = 13

SUPPORTED_OPS = {
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Erf",
    "MatMul", "Gemm", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Clip",
    "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Flatten",
    "Reshape", "Transpose", "Concat", "Squeeze", "Unsqueeze", "Gather", "Shape", "Constant",
    "Identity", "Dropout", "ReduceMean", "ReduceSum",
}

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_PATH = os.path.join(HERE, "Models", "digits.onnx")
CSV_PATH = os.path.join(HERE, "Data", "digits-test.csv")
ACC_PATH = os.path.join(HERE, "Data", "expected-accuracy.txt")


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def seed_everything():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel values 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x).reshape(-1, 1, 8, 8))
    return float((logits.argmax(1).numpy() == y).mean())


def train(x_train, y_train):
    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(x_train).reshape(-1, 1, 8, 8)
    yt = torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1:2d}  loss {total / len(xt):.4f}")
    return model


def write_csv(x_test, y_test):
    with open(CSV_PATH, "w", newline="\n") as f:
        f.write(",".join([f"p{i}" for i in range(64)] + ["label"]) + "\n")
        for row, label in zip(x_test, y_test):
            # values are k/16, exactly representable; repr-style formatting with '.' decimals
            f.write(",".join(f"{float(v):.4g}" for v in row) + f",{int(label)}\n")


def _conv2d(x, w, b, pads, strides):
    n, c, h, wd = x.shape
    oc, ic, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // strides[0] + 1
    ow = (x.shape[3] - kw) // strides[1] + 1
    out = np.zeros((n, oc, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out + (0 if b is None else b.reshape(1, -1, 1, 1))


def run_onnx_numpy(m, pixels):
    """Evaluates the exported graph with NumPy (float64), independently of PyTorch.

    Handles only the operators this export produces; anything else is an error."""
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    env[m.graph.input[0].name] = pixels.astype(np.float64)
    for node in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        x = [env[i] if i else None for i in node.input]
        if node.op_type == "Conv":
            assert a.get("group", 1) == 1 and set(a.get("dilations", [1, 1])) == {1}
            y = _conv2d(x[0], x[1], x[2] if len(x) > 2 else None, a.get("pads", [0] * 4), a.get("strides", [1, 1]))
        elif node.op_type == "BatchNormalization":
            s, bias, mean, var = (v.reshape(1, -1, 1, 1) for v in x[1:5])
            y = (x[0] - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * s + bias
        elif node.op_type == "Relu":
            y = np.maximum(x[0], 0)
        elif node.op_type == "MaxPool":
            assert a["kernel_shape"] == [2, 2] and a.get("strides") == [2, 2] and not any(a.get("pads", []))
            n, c, h, w = x[0].shape
            y = x[0].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        elif node.op_type == "Flatten":
            y = x[0].reshape(x[0].shape[0], -1)
        elif node.op_type == "Gemm":
            assert a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0 and not a.get("transA", 0)
            y = x[0] @ (x[1].T if a.get("transB", 0) else x[1]) + x[2]
        else:
            raise SystemExit(f"numpy check: operator {node.op_type} not handled")
        env[node.output[0]] = y
    return env[m.graph.output[0].name]


def export(model):
    model.eval()
    dummy = torch.zeros(1, 1, 8, 8)
    torch.onnx.export(
        model, dummy, MODEL_PATH,
        input_names=["pixels"], output_names=["scores"],
        opset_version=OPSET, do_constant_folding=True,
    )
    m = onnx.load(MODEL_PATH)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = [o for o in ops if o not in SUPPORTED_OPS]
    if bad:
        raise SystemExit(f"digits.onnx uses unsupported operators: {bad}")
    for vi in list(m.graph.input) + list(m.graph.output):
        dims = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
        if None in dims:
            raise SystemExit(f"{vi.name} has a non-static shape: {dims}")
        print(f"  {vi.name}: {dims}")
    for t in m.graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT:
            raise SystemExit(f"initializer {t.name} is not float32")
    print(f"  operators: {ops}")
    return m


def main():
    seed_everything()
    x_train, x_test, y_train, y_test = load_data()
    print(f"train {len(x_train)}, test {len(x_test)}")
    model = train(x_train, y_train)
    acc = accuracy(model, x_test, y_test)
    print(f"PyTorch test accuracy: {acc:.4f} ({round(acc * len(y_test))}/{len(y_test)})")
    if acc < 0.95:
        raise SystemExit("test accuracy below 0.95")

    os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
    os.makedirs(os.path.dirname(CSV_PATH), exist_ok=True)
    write_csv(x_test, y_test)
    with open(ACC_PATH, "w", newline="\n") as f:
        f.write(f"{acc:.4f}\n")
    print(f"wrote {CSV_PATH}")
    print(f"wrote {ACC_PATH}")
    export(model)
    print(f"wrote {MODEL_PATH} ({os.path.getsize(MODEL_PATH)} bytes)")

    # Check the exported file itself: run it with NumPy on every test image, one image
    # at a time (the input shape is fixed at [1,1,8,8]) and compare with PyTorch.
    m = onnx.load(MODEL_PATH)
    model.eval()
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x_test).reshape(-1, 1, 8, 8)).numpy().astype(np.float64)
    onnx_logits = np.concatenate([run_onnx_numpy(m, img.reshape(1, 1, 8, 8)) for img in x_test])
    max_diff = float(np.abs(onnx_logits - torch_logits).max())
    onnx_acc = float((onnx_logits.argmax(1) == y_test).mean())
    top2 = np.sort(onnx_logits, axis=1)[:, -2:]
    margin = float((top2[:, 1] - top2[:, 0]).min())
    print(f"ONNX (NumPy) test accuracy: {onnx_acc:.4f}; max |logit diff| vs PyTorch {max_diff:.2e}; "
          f"smallest top-1/top-2 logit margin {margin:.4f}")
    if onnx_acc != acc or max_diff > 1e-4:
        raise SystemExit("the exported ONNX model does not match the PyTorch model")


if __name__ == "__main__":
    main()
