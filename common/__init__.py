"""The shared library of the workspace. Public modules (a paper imports only these and itself):

- ``common.config``      strict ``get_config(arg)`` parsing: variants smoke/small/paper, ``key=value`` overrides
- ``common.distributed`` ``initialize()`` jax.distributed from launcher env vars; ``is_chief()``
- ``common.sharding``    ``make_mesh``, ``shard_batch``, ``check_batch_divisible``, ``place_params``
- ``common.checkpoint``  ``Checkpointer`` (orbax; resume; config and corruption guards)
- ``common.metrics``     ``MetricsWriter`` (metrics.jsonl + TensorBoard), ``Progress``, ``read_metrics``
- ``common.training``    ``TrainState``, ``run_loop``, ``run_data_parallel`` (sharded batch), ``run_units`` /
  ``run_units_in`` / ``load_finished_units`` (resumable work units), ``check_finite``, ``ema_update``
- ``common.testing``     ``assert_rerun_redoes_nothing``, ``assert_units_run_once``, ``unit_state``, ``metrics_lines``
  (end-to-end test checks)
- ``common.claims``      ``Claim``, ``write_eval`` (eval.json + printed table)
- ``common.data``        digits, IDX (MNIST/Fashion-MNIST), CIFAR-10 binary, Gaussian mixtures, clustering features
- ``common.binary``      the shared body of every paper's thin train/eval binaries
- ``common.linear_solvers`` SOR / SSOR-PCG on sparse matrices and the 2-D Laplacian, iteration counts, Young's formulas
- ``common.chaotic_systems`` 83 chaotic flows (equations, dysts metadata), batched RK4 in standardised time, noise
- ``common.kmedoids``    k-medoids caches, TD, BUILD/LAB init; ``common.kmedoids_swap``: PAM / FastPAM1 / FastPAM2 SWAP;
  ``common.kmedoids_loops``: PAM / FastPAM1 / FasterPAM SWAP as scalar loops (numba, the papers' code style);
  ``common.kmedoids_records``: checkpointed result tables of k-medoids runs (work units, interleaved timing,
  the shared BUILD + PAM/FastPAM1 unit, loader, clusterings.npz of medoids and labels)
- ``common.pde``         spectral ETDRK4 for 1-D periodic semilinear PDEs (Allen-Cahn, Kuramoto-Sivashinsky, linear)

Changing a public function means running every paper's tests (``make test``) in the same change.
"""
