"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are (less their `#|` directive lines,
e.g. the `#| export` that puts a paragraph into the package docstring and llms.txt), code cells fenced, text outputs
after them. (`nbdev-readme` does the same through Quarto where Quarto is installed.) `--check` fails when stale."""
import json, sys
from pathlib import Path
root = Path(__file__).resolve().parents[1]
nb = json.loads((root/'nbs'/'index.ipynb').read_text(encoding='utf-8'))
out = []
for c in nb['cells']:
    src = ''.join(c['source'])
    if c['cell_type'] == 'markdown':
        lines = src.splitlines()
        if any(l.strip() == '#| hide' for l in lines): continue
        while lines and lines[0].startswith('#|'): lines.pop(0)
        out.append('\n'.join(lines)); continue
    lines = [l for l in src.splitlines() if not l.lstrip().startswith('#|')]
    if any(l.strip() in ('#| hide',) for l in src.splitlines()): continue
    out.append('```python\n' + '\n'.join(lines) + '\n```')
    for o in c.get('outputs', []):
        t = o.get('text') or o.get('data', {}).get('text/plain')
        if t: out.append('```\n' + ''.join(t).rstrip() + '\n```')
text = '<!-- generated from nbs/index.ipynb: edit the notebook, then run `python .ci/make_readme.py` -->\n\n' + '\n\n'.join(out) + '\n'
readme = root/'README.md'
if '--check' in sys.argv:
    if not readme.exists() or readme.read_text(encoding='utf-8') != text: sys.exit('README.md is stale: run python .ci/make_readme.py')
else: readme.write_text(text, encoding='utf-8')
