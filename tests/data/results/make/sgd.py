# A tiny real training loop: numpy logistic regression under Hydra, with a tqdm bar (postfix
# metrics), W&B in offline mode and MLflow's file store, all as a user would write it.
import math, os, sys
import hydra, numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig):
    import wandb, mlflow
    rng = np.random.default_rng(cfg.seed)
    x = rng.normal(size=(cfg.data.n, 4)); w_true = np.array([1.0, -2.0, 0.5, 0.0])
    y = (x @ w_true + 0.3 * rng.normal(size=cfg.data.n) > 0).astype(float)
    xv, yv = x[-64:], y[-64:]; x, y = x[:-64], y[:-64]
    w = np.zeros(4)
    run = wandb.init(project="tiny-sgd", mode="offline", config=OmegaConf.to_container(cfg))
    mlflow.set_tracking_uri("file:" + os.path.abspath("mlruns"))
    mlflow.set_experiment("tiny-sgd")
    with mlflow.start_run(run_name="sgd"):
        mlflow.log_params({"lr": cfg.optim.lr, "epochs": cfg.epochs, "batch_size": cfg.data.batch_size})
        step = 0
        for epoch in range(cfg.epochs):
            bar = tqdm(range(0, len(x), cfg.data.batch_size), desc=f"Epoch {epoch}", file=sys.stdout, mininterval=0)
            for i in bar:
                xb, yb = x[i:i + cfg.data.batch_size], y[i:i + cfg.data.batch_size]
                p = 1 / (1 + np.exp(-(xb @ w)))
                loss = float(-np.mean(yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9)))
                w -= cfg.optim.lr * xb.T @ (p - yb) / len(yb)
                step += 1
                bar.set_postfix(loss=f"{loss:.4f}", lr=cfg.optim.lr)
                wandb.log({"train/loss": loss}, step=step)
                mlflow.log_metric("train/loss", loss, step=step)
            pv = 1 / (1 + np.exp(-(xv @ w)))
            val_loss = float(-np.mean(yv * np.log(pv + 1e-9) + (1 - yv) * np.log(1 - pv + 1e-9)))
            val_acc = float(np.mean((pv > 0.5) == yv))
            print(f"epoch {epoch}: val_loss={val_loss:.4f} val_acc={val_acc:.4f}", flush=True)
            wandb.log({"val/loss": val_loss, "val/acc": val_acc, "epoch": epoch}, step=step)
            mlflow.log_metrics({"val_loss": val_loss, "val_acc": val_acc}, step=epoch)
    run.finish()

if __name__ == "__main__":
    main()
