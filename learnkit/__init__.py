"""A from-scratch deep-learning curriculum in nbdev notebooks, and the library its lessons build

learnkit is a curriculum and a library at once. Each lesson builds one big idea from the ground up in small
cells you can run and change: a parabola before a neural net, a loop before a vectorised kernel, a failure
before its fix. The finished pieces of each lesson (an autograd engine, a convolution, ...) are exported into
the `learnkit` package, tested against PyTorch, so you can import what you built into your own projects.

Every lesson has exercises that check themselves: fill the gap marked `# fill in code here`, run the cell, and
the check tells you what is wrong (expected against got, shapes, how far off). Worked solutions follow, folded.

The package has a module per lesson and a few that every lesson shares. `learnkit.fitting`, `learnkit.autograd`,
`learnkit.conv`, `learnkit.norm`, `learnkit.optim`, `learnkit.resnet`, `learnkit.rnn`, `learnkit.attention`, `learnkit.transformer`, `learnkit.gpt`, `learnkit.distributed`,
`learnkit.generative` and `learnkit.diffusion` hold what the lessons build, in curriculum order, from curve fitting with
ReLUs to a character-level GPT trained on several processes and a diffusion model that draws digits. The
foundations are `learnkit.utils` (seeds, devices, the plot style), `learnkit.data` (the lessons' data sets,
downloaded once and checked), `learnkit.train` (the training loop), `learnkit.exercises` (self-checking exercises),
`learnkit.lint` (the lesson linter) and `learnkit.cli` (the `learnkit` command: `check`, `cards`, `new`).

Modules:

- `learnkit.diffusion`: A network that only ever learned to guess the noise in a noisy example turns pure noise into new examples, a small step at a time. The forward noising process in closed form, noise prediction, the DDPM and DDIM samplers and classifier-free guidance, first on a 2-D swiss roll whose whole distribution you can watch form, then on 8×8 digits; and one yardstick table for every generative model of this lesson and the last.
- `learnkit.distributed`: When one device is not enough, split every batch over several processes, average their gradients with an all-reduce, and get exactly the numbers one process would get on the whole batch. Built by hand with `torch.distributed`, then with `DistributedDataParallel`, `torchrun` and `learnkit.train.fit`.
- `learnkit.exercises`: Checks that tell a right answer from a wrong one without giving the answer away, an answer key the checks read, and the runner that proves every check rejects the wrong answers a learner is likely to write.
- `learnkit.generative`: How can a network produce new examples of a distribution it has only seen samples of? A yardstick that scores samples first, then an autoencoder whose latent space cannot be sampled, a variational autoencoder that can, and a generative adversarial network, all on 8×8 handwritten digits and 2-D toy distributions.
- `learnkit.optim`: Gradient descent zig-zags across narrow valleys, crawls along curved ones and lingers at saddles. Momentum, RMSprop and Adam each fix one of those failures, AdamW fixes Adam's weight decay, and a learning-rate finder and a schedule choose the step size. Every optimiser is built by hand, then checked step for step against `torch.optim`.
- `learnkit.resnet`: Stack more convolutional layers and a network should get better, or at worst stay as good: the extra layers could just copy their input. In practice a deep plain network trains *worse* than a shallow one. A residual connection, `x + F(x)`, fixes that. Here you reproduce the failure on real digits, build BatchNorm2d, the basic and bottleneck blocks, the projection shortcut, global average pooling and a ResNet with torchvision's layout from the course's own parts, and measure why the shortcut works."""

__version__ = "0.0.1"
