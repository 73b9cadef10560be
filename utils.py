"Re-export of `learnkit.utils`, so `import utils; utils.set_seed(42)` works from the repository root."
from learnkit.utils import *
